// The connection budget of a Kubernetes deployment, read from its rendered manifests before anything
// is applied. Replicas means the most an autoscaler may reach (maxReplicas), not today's count: the
// incident came back on Kubernetes as an HPA adding pods, each with its own pool. Same rule and the
// same arithmetic as `bun run doctor` and `bun run dev` (shared/connection-budget.ts).
import { BUDGET_HEADROOM, overBudget, pooledConnections } from '../../shared/connection-budget.ts';
import { buildPooledDatabaseConfig } from '../../shared/db-config.ts';
import { SERVICES, type ServiceRegistry, workerNames } from '../../shared/services.ts';
import type { KubernetesObject } from '../deploy/kustomize.ts';
import {
  containerEnvironment,
  containersOf,
  deploymentRunning,
  maximumPods,
  objectsOfKind,
} from '../deploy/manifest-queries.ts';
import type { Finding } from './findings.ts';

/** PgBouncer's own defaults, for settings a manifest leaves out. */
const PGBOUNCER_DEFAULT_POOL_SIZE = 20;

export interface WorkerShare {
  service: string;
  deployment: string;
  poolSize: number;
  /** Most pods: the autoscaler's maxReplicas, else the Deployment's replicas. */
  replicas: number;
  replicasSource: string;
}

export interface PoolerShare {
  deployment: string;
  pods: number;
  podsSource: string;
  /** default_pool_size: server connections per pod for our one database/user pair. */
  poolSize: number;
  /** max_db_connections per pod; undefined when unlimited (PgBouncer's 0). */
  maxDbConnections?: number;
}

export interface KubernetesBudget {
  workers: WorkerShare[];
  /** Workers of the registry with no Deployment running them. */
  missingWorkers: string[];
  pooler?: PoolerShare;
  /** The database's max_connections as the deployment states it (DB_CONNECTION_BUDGET). */
  databaseConnections?: number;
}

/** A limit the workers' pools must fit into, and where it comes from. */
export interface BudgetLimit {
  connections: number;
  source: string;
}

/** A URL the pool arithmetic can read when the Secret still holds a placeholder. */
const STAND_IN_URL = 'postgresql://poolwise@pooler:6543/poolwise';

function poolSizeOf(environment: Record<string, string>): number {
  const poolSize = environment.DB_POOL_SIZE ? Number(environment.DB_POOL_SIZE) : undefined;
  try {
    return buildPooledDatabaseConfig({ databaseUrl: environment.DATABASE_URL ?? STAND_IN_URL, poolSize }).pool.max;
  } catch {
    return buildPooledDatabaseConfig({ databaseUrl: STAND_IN_URL, poolSize }).pool.max;
  }
}

const positive = (text: string | undefined) => (text && Number(text) > 0 ? Number(text) : undefined);

export function readKubernetesBudget(
  objects: KubernetesObject[],
  registry: ServiceRegistry = SERVICES,
): KubernetesBudget {
  const workers: WorkerShare[] = [];
  const missingWorkers: string[] = [];
  let databaseConnections: number | undefined;
  for (const service of workerNames(registry)) {
    const deployment = deploymentRunning(objects, `${registry[service]?.dir}/server.ts`);
    if (!deployment) {
      missingWorkers.push(service);
      continue;
    }
    const environment = containerEnvironment(objects, containersOf(deployment)[0]);
    const { pods, source } = maximumPods(objects, deployment);
    workers.push({
      service,
      deployment: deployment.metadata.name,
      poolSize: poolSizeOf(environment),
      replicas: pods,
      replicasSource: source,
    });
    databaseConnections ??= positive(environment.DB_CONNECTION_BUDGET);
  }
  // The central pooler: PgBouncer configured the edoburu/pgbouncer way (POOL_MODE, DEFAULT_POOL_SIZE...).
  let pooler: PoolerShare | undefined;
  for (const deployment of objectsOfKind(objects, 'Deployment')) {
    const container = containersOf(deployment).find((candidate) => String(candidate.image).includes('pgbouncer'));
    if (!container) continue;
    const settings = containerEnvironment(objects, container);
    const { pods, source } = maximumPods(objects, deployment);
    pooler = {
      deployment: deployment.metadata.name,
      pods,
      podsSource: source,
      poolSize: positive(settings.DEFAULT_POOL_SIZE) ?? PGBOUNCER_DEFAULT_POOL_SIZE,
      maxDbConnections: positive(settings.MAX_DB_CONNECTIONS),
    };
  }
  return { workers, missingWorkers, pooler, databaseConnections };
}

/** Every limit the workers' pools must fit into, tightest first. */
export function budgetLimits(budget: KubernetesBudget): BudgetLimit[] {
  const limits: BudgetLimit[] = [];
  const { pooler } = budget;
  if (pooler) {
    limits.push({
      connections: pooler.pods * pooler.poolSize,
      source: `PgBouncer's pool (${pooler.pods} pods × default_pool_size ${pooler.poolSize})`,
    });
    if (pooler.maxDbConnections !== undefined) {
      limits.push({
        connections: pooler.pods * pooler.maxDbConnections,
        source: `PgBouncer's max_db_connections (${pooler.pods} pods × ${pooler.maxDbConnections})`,
      });
    }
  }
  if (budget.databaseConnections !== undefined) {
    limits.push({
      connections: budget.databaseConnections,
      source: `DB_CONNECTION_BUDGET ${budget.databaseConnections} (the database's max_connections, or the provider pooler's pool)`,
    });
  }
  return limits.sort((a, b) => a.connections - b.connections);
}

export const kubernetesBudgetUse = (budget: KubernetesBudget) => pooledConnections(budget.workers);

export function kubernetesFindings(budget: KubernetesBudget): Finding[] {
  const findings: Finding[] = budget.missingWorkers.map((service) => ({
    severity: 'error',
    code: 'WORKER_NOT_DEPLOYED',
    service,
    message: `No Deployment runs ${service}'s server.ts, so the gateway would have no ${service} upstream.`,
    fix: `Add a Deployment whose container args are ["${SERVICES[service as keyof typeof SERVICES]?.dir ?? service}/server.ts"].`,
  }));
  const used = kubernetesBudgetUse(budget);
  const tightest = budgetLimits(budget)[0];
  if (!tightest) {
    findings.push({
      severity: 'warning',
      code: 'BUDGET_UNKNOWN',
      message: `The workers' pools add up to ${used} connections at their autoscalers' maximum; nothing to compare with.`,
      fix: 'Set DB_CONNECTION_BUDGET in the ConfigMap to the database’s max_connections (or the provider pooler’s pool size).',
    });
  } else if (overBudget(used, tightest.connections)) {
    // Name the worker whose autoscaler takes the largest share: lowering it helps most.
    const largest = [...budget.workers].sort(
      (a, b) => b.poolSize * b.replicas - a.poolSize * a.replicas,
    )[0] as WorkerShare;
    const others = used - largest.poolSize * largest.replicas;
    const fittingReplicas = Math.floor((tightest.connections - BUDGET_HEADROOM - others) / largest.poolSize);
    const shares = budget.workers
      .map((worker) => `${worker.service} ${worker.poolSize} × ${worker.replicas}`)
      .join(', ');
    findings.push({
      severity: 'error',
      code: 'POOLS_OVER_BUDGET',
      service: largest.service,
      message: `At the autoscalers' maximum the pools hold ${used} connections (${shares}); plus ${BUDGET_HEADROOM} for migrations and tools that exceeds ${tightest.source}: ${tightest.connections}.`,
      fix:
        fittingReplicas >= 1
          ? `Lower ${largest.replicasSource} from ${largest.replicas} to ${fittingReplicas} or less, or ${largest.service}'s DB_POOL_SIZE, or raise ${tightest.source}.`
          : `Even one ${largest.service} pod does not fit: lower DB_POOL_SIZE or the other workers' maxReplicas, or raise ${tightest.source}.`,
    });
  }
  const { pooler, databaseConnections } = budget;
  if (pooler && databaseConnections !== undefined) {
    const perPod = Math.min(pooler.poolSize, pooler.maxDbConnections ?? pooler.poolSize);
    const serverConnections = pooler.pods * perPod;
    if (overBudget(serverConnections, databaseConnections)) {
      const fitting = Math.floor((databaseConnections - BUDGET_HEADROOM) / pooler.pods);
      findings.push({
        severity: 'error',
        code: 'POOLER_OVER_DATABASE',
        message: `${pooler.pods} PgBouncer pods (${pooler.podsSource}) × ${perPod} server connections = ${serverConnections}, plus ${BUDGET_HEADROOM} headroom, exceed the database's max_connections (DB_CONNECTION_BUDGET ${databaseConnections}).`,
        fix: `Split the database between the pods: MAX_DB_CONNECTIONS ${fitting} or less per pod (${pooler.pods} pods), or fewer pods.`,
      });
    }
  }
  return findings;
}
