// The Kubernetes overlays, checked without a cluster: each renders with the real kubectl (Kustomize),
// every object passes the Kubernetes API schema with no unknown field, and the deployment keeps the
// promises of DESIGN.md ("Past one process, past one machine"), derived from the service registry.
import { describe, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS } from '../../shared/config-schema.ts';
import { buildPooledDatabaseConfig } from '../../shared/db-config.ts';
import { REPOSITORY_ROOT, validateConfig } from '../../shared/env.ts';
import { SHUTDOWN_GRACE_MS } from '../../shared/http/run-service.ts';
import { portKey, replicasKey, SERVICES, urlKey, WORKER_NAMES } from '../../shared/services.ts';
import { schemaProblems } from './kubernetes-schema.ts';
import { type KubernetesObject, parseManifests, renderKustomization } from './kustomize.ts';
import {
  autoscalerFor,
  type Container,
  containerEnvironment,
  containersOf,
  deploymentRunning,
  named,
  objectsOfKind,
  selects,
  valuesOf,
} from './manifest-queries.ts';
import { ingressAllowed, podOf } from './network-policy.ts';

const KUBERNETES_DIR = join(REPOSITORY_ROOT, 'deploy/kubernetes');
const OVERLAYS = readdirSync(join(KUBERNETES_DIR, 'overlays'));
const rendered = new Map(
  OVERLAYS.map((overlay) => [overlay, parseManifests(renderKustomization(join(KUBERNETES_DIR, 'overlays', overlay)))]),
);
const overlay = (name: string) => rendered.get(name) as KubernetesObject[];
const MIGRATIONS_ENTRY = 'tools/migrations/migrate-cli.ts';

const podSpec = (workload: KubernetesObject) => workload.spec.template.spec;
const firstContainer = (workload: KubernetesObject): Container => containersOf(workload)[0];
const portNumber = (container: Container, port: string | number) =>
  typeof port === 'number' ? port : container.ports?.find((entry: Container) => entry.name === port)?.containerPort;
const preStopSeconds = (container: Container) => {
  const command: string[] = container.lifecycle?.preStop?.exec?.command ?? [];
  return command[0] === 'sleep' ? Number(command[1]) : 0;
};
const pgbouncerOf = (objects: KubernetesObject[]) => named(objects, 'Deployment', 'pgbouncer');

describe('Kubernetes overlays', () => {
  test('there are the local, production and a managed-database overlay, each rendered by kubectl', () => {
    expect(OVERLAYS).toEqual(expect.arrayContaining(['local', 'production', 'supabase']));
    for (const [name, objects] of rendered) expect(objects.length, name).toBeGreaterThan(15);
  });

  test('every rendered object passes the Kubernetes API schema, unknown fields included', async () => {
    for (const [name, objects] of rendered) {
      const problems = (await Promise.all(objects.map(schemaProblems))).flat();
      expect(problems, name).toEqual([]);
    }
  });

  test('the schema check really rejects a wrong type and a misspelt field', async () => {
    const deployment = structuredClone(named(overlay('production'), 'Deployment', 'client') as KubernetesObject);
    deployment.spec.replicas = '2';
    firstContainer(deployment).securityContext.readOnlyRootFileSystem = true;
    const problems = await schemaProblems(deployment);
    expect(problems.some((problem) => problem.includes('/spec/replicas'))).toBe(true);
    expect(problems.some((problem) => problem.includes('readOnlyRootFileSystem is not a field'))).toBe(true);
  });

  for (const [name, objects] of rendered) {
    describe(name, () => {
      const config = valuesOf(named(objects, 'ConfigMap', 'poolwise-config'));
      const secret = valuesOf(named(objects, 'Secret', 'poolwise-secrets'));

      test('the configuration holds only keys the services read, and every service accepts it', () => {
        for (const key of Object.keys(config)) expect(CONFIG_KEYS, key).toContain(key);
        for (const service of Object.keys(SERVICES)) {
          const deployment = deploymentRunning(objects, `${SERVICES[service as keyof typeof SERVICES].dir}/server.ts`);
          const environment = containerEnvironment(objects, firstContainer(deployment as KubernetesObject));
          expect(() => validateConfig(service, environment), service).not.toThrow();
        }
      });

      for (const [service, definition] of Object.entries(SERVICES)) {
        test(`${service}: one Deployment of the shared image, probed, drained, bounded and locked down`, () => {
          const deployment = deploymentRunning(objects, `${definition.dir}/server.ts`) as KubernetesObject;
          expect(deployment, `${service} Deployment`).toBeDefined();
          const container = firstContainer(deployment);
          const environment = containerEnvironment(objects, container);
          expect(container.image).toBe(
            firstContainer(deploymentRunning(objects, 'gateway/server.ts') as KubernetesObject).image,
          );
          expect(portNumber(container, 'http')).toBe(Number(environment[portKey(service)] ?? definition.defaultPort));

          // Probes: workers serve both on their port; the gateway's readiness is on its operations port.
          const readinessPort = portNumber(container, container.readinessProbe.httpGet.port);
          expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
          expect(container.livenessProbe.httpGet.path).toBe('/health/live');
          expect(readinessPort).toBe(
            service === 'gateway' ? Number(environment.OPS_PORT) : portNumber(container, 'http'),
          );

          // The kubelet waits preStop, then SIGTERM: readiness fails for SHUTDOWN_DELAY_SECONDS, then
          // in-flight requests get SHUTDOWN_GRACE_MS. The grace period must cover all of it.
          const needed =
            preStopSeconds(container) + Number(environment.SHUTDOWN_DELAY_SECONDS) + SHUTDOWN_GRACE_MS / 1000;
          expect(preStopSeconds(container)).toBeGreaterThan(0);
          expect(Number(environment.SHUTDOWN_DELAY_SECONDS)).toBeGreaterThan(0);
          expect(podSpec(deployment).terminationGracePeriodSeconds).toBeGreaterThan(needed);

          for (const bound of ['requests', 'limits']) {
            expect(Object.keys(container.resources?.[bound] ?? {}).sort(), bound).toEqual(['cpu', 'memory']);
          }
          expect(podSpec(deployment).securityContext.runAsNonRoot).toBe(true);
          expect(podSpec(deployment).securityContext.runAsUser).toBeGreaterThan(0);
          expect(container.securityContext).toMatchObject({
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          });
        });

        test(`${service}: a PodDisruptionBudget and an autoscaler with min ≤ max`, () => {
          const deployment = deploymentRunning(objects, `${definition.dir}/server.ts`) as KubernetesObject;
          const podLabels = deployment.spec.template.metadata.labels;
          const budgets = objectsOfKind(objects, 'PodDisruptionBudget').filter((pdb) =>
            selects(pdb.spec.selector.matchLabels, podLabels),
          );
          expect(budgets).toHaveLength(1);
          const hpa = autoscalerFor(objects, deployment) as KubernetesObject;
          expect(hpa, `${service} HPA`).toBeDefined();
          expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(1);
          expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
        });
      }

      test('workers: a headless Service the gateway’s URL names, and the budget’s replica count is the HPA maximum', () => {
        for (const worker of WORKER_NAMES) {
          const deployment = deploymentRunning(objects, `${SERVICES[worker].dir}/server.ts`) as KubernetesObject;
          const services = objectsOfKind(objects, 'Service').filter((service) =>
            selects(service.spec.selector, deployment.spec.template.metadata.labels),
          );
          expect(services, worker).toHaveLength(1);
          const service = services[0] as KubernetesObject;
          expect(service.spec.clusterIP).toBe('None');
          expect(config[urlKey(worker)]).toBe(`http://${service.metadata.name}:${service.spec.ports[0].port}`);
          expect(service.spec.ports[0].port).toBe(Number(config[portKey(worker)]));
          const hpa = autoscalerFor(objects, deployment) as KubernetesObject;
          expect(Number(config[replicasKey(worker)]), worker).toBe(hpa.spec.maxReplicas);
        }
      });

      test('the gateways split the rate limits by the fewest of them that may run', () => {
        const gateway = deploymentRunning(objects, 'gateway/server.ts') as KubernetesObject;
        const hpa = autoscalerFor(objects, gateway) as KubernetesObject;
        expect(Number(config[replicasKey('gateway')])).toBe(hpa.spec.minReplicas);
      });

      test('runtime traffic goes to a transaction pooler: a central PgBouncer of ≥ 2 pods, or the provider’s', () => {
        const runtime = buildPooledDatabaseConfig({ databaseUrl: secret.DATABASE_URL as string });
        expect(runtime.mode).toBe('transaction');
        const pgbouncer = pgbouncerOf(objects);
        // Never a pooler per pod: only the PgBouncer Deployment runs PgBouncer.
        const poolerContainers = objectsOfKind(objects, 'Deployment').flatMap((deployment) =>
          containersOf(deployment)
            .filter((container) => String(container.image).includes('pgbouncer'))
            .map(() => deployment.metadata.name),
        );
        if (!pgbouncer) {
          expect(poolerContainers).toEqual([]);
          expect(runtime.host).not.toBe('pgbouncer');
          return;
        }
        expect(poolerContainers).toEqual(['pgbouncer']);
        expect(pgbouncer.spec.replicas).toBeGreaterThanOrEqual(2);
        const settings = containerEnvironment(objects, firstContainer(pgbouncer));
        expect(settings).toMatchObject({
          POOL_MODE: 'transaction',
          SERVER_LOGIN_RETRY: '1',
          SERVER_CONNECT_TIMEOUT: '3',
          QUERY_WAIT_TIMEOUT: '10',
        });
        const service = named(objects, 'Service', runtime.host ?? '') as KubernetesObject;
        expect(service, 'the Service DATABASE_URL names').toBeDefined();
        expect(selects(service.spec.selector, pgbouncer.spec.template.metadata.labels)).toBe(true);
        expect(service.spec.ports[0].port).toBe(runtime.port);
        expect(String(runtime.port)).toBe(settings.LISTEN_PORT as string);
        // The pods' server connections together stay inside the database's budget (doctor checks the clients).
        const serverConnections = pgbouncer.spec.replicas * Number(settings.MAX_DB_CONNECTIONS);
        expect(serverConnections).toBeGreaterThan(0);
        expect(serverConnections + 3).toBeLessThanOrEqual(Number(config.DB_CONNECTION_BUDGET));
        // An in-cluster PostgreSQL (local) is the budget: DB_CONNECTION_BUDGET is its max_connections.
        const postgres = named(objects, 'Deployment', 'postgres');
        if (postgres) {
          const maxConnections = /max_connections=(\d+)/.exec(firstContainer(postgres).args.join(' '))?.[1];
          expect(maxConnections).toBe(config.DB_CONNECTION_BUDGET as string);
        }
      });

      test('migrations run as a Job over DIRECT_URL only, never the transaction pooler', () => {
        const job = objectsOfKind(objects, 'Job').find(
          (candidate) => firstContainer(candidate).args?.[0] === MIGRATIONS_ENTRY,
        );
        expect(job).toBeDefined();
        const container = firstContainer(job as KubernetesObject);
        expect(container.envFrom ?? []).toEqual([]);
        expect(Object.keys(containerEnvironment(objects, container))).toEqual(['DIRECT_URL']);
        const direct = buildPooledDatabaseConfig({ databaseUrl: secret.DIRECT_URL as string });
        expect(direct.mode).not.toBe('transaction');
        expect(podSpec(job as KubernetesObject).securityContext.runAsNonRoot).toBe(true);
      });

      test('Redis is a cache: bounded, evicting, nothing persisted', () => {
        const redis = named(objects, 'Deployment', 'redis') as KubernetesObject;
        const args: string[] = firstContainer(redis).args;
        const after = (flag: string) => args[args.indexOf(flag) + 1];
        expect(after('--save')).toBe('');
        expect(after('--appendonly')).toBe('no');
        expect(after('--maxmemory-policy')).toBe('allkeys-lru');
        expect(after('--maxmemory')).toMatch(/^\d+mb$/);
        expect(podSpec(redis).volumes.every((volume: Container) => volume.emptyDir)).toBe(true);
        expect(objectsOfKind(objects, 'PersistentVolumeClaim')).toEqual([]);
      });

      test('only the gateway’s public port is exposed, through one Ingress', () => {
        const ingresses = objectsOfKind(objects, 'Ingress');
        expect(ingresses).toHaveLength(1);
        const backends = (ingresses[0] as KubernetesObject).spec.rules.flatMap((rule: Container) =>
          rule.http.paths.map((path: Container) => path.backend.service),
        );
        const gateway = deploymentRunning(objects, 'gateway/server.ts') as KubernetesObject;
        for (const backend of backends) {
          const service = named(objects, 'Service', backend.name) as KubernetesObject;
          expect(selects(service.spec.selector, gateway.spec.template.metadata.labels)).toBe(true);
          const port = service.spec.ports.find((entry: Container) => entry.name === backend.port.name);
          expect(portNumber(firstContainer(gateway), port.targetPort)).toBe(Number(config[portKey('gateway')]));
        }
        const exposed = objectsOfKind(objects, 'Service').filter((service) =>
          ['LoadBalancer', 'NodePort'].includes(service.spec.type),
        );
        expect(exposed).toEqual([]);
      });

      test('network policies let through exactly the connections the system makes', () => {
        const pod = (entry: string) => podOf(deploymentRunning(objects, entry) as KubernetesObject);
        const gateway = pod('gateway/server.ts');
        const workers = WORKER_NAMES.map((worker) => ({ worker, pod: pod(`${SERVICES[worker].dir}/server.ts`) }));
        const job = objectsOfKind(objects, 'Job')[0] as KubernetesObject;
        const migrations = podOf(job);
        const outsider = { labels: { 'app.kubernetes.io/name': 'debug-shell' }, containers: [] };
        const allowed = (from: typeof gateway, to: typeof gateway, port: number) =>
          ingressAllowed(objects, from, to, port);
        // Default deny: a pod nobody expects reaches nothing, not even the migrations Job.
        expect(
          objectsOfKind(objects, 'NetworkPolicy').some((policy) => Object.keys(policy.spec.podSelector).length === 0),
        ).toBe(true);

        expect(allowed(outsider, gateway, Number(config.GATEWAY_PORT))).toBe(true); // the public port
        for (const { worker, pod: target } of workers) {
          const port = Number(config[portKey(worker)]);
          expect(allowed(gateway, target, port), `gateway → ${worker}`).toBe(true);
          expect(allowed(outsider, target, port), `outsider → ${worker}`).toBe(false);
          expect(allowed((workers[0] as { pod: typeof gateway }).pod, target, port), `worker → ${worker}`).toBe(false);
        }
        const redis = podOf(named(objects, 'Deployment', 'redis') as KubernetesObject);
        for (const client of [gateway, ...workers.map((entry) => entry.pod)])
          expect(allowed(client, redis, 6379)).toBe(true);
        expect(allowed(outsider, redis, 6379)).toBe(false);

        const pgbouncer = pgbouncerOf(objects);
        if (pgbouncer) {
          const port = Number(containerEnvironment(objects, firstContainer(pgbouncer)).LISTEN_PORT);
          for (const { worker, pod: client } of workers)
            expect(allowed(client, podOf(pgbouncer), port), worker).toBe(true);
          expect(allowed(gateway, podOf(pgbouncer), port)).toBe(false);
        }
        const postgres = named(objects, 'Deployment', 'postgres');
        if (postgres) {
          expect(allowed(migrations, podOf(postgres), 5432)).toBe(true);
          expect(allowed(podOf(pgbouncer as KubernetesObject), podOf(postgres), 5432)).toBe(true);
          expect(allowed(gateway, podOf(postgres), 5432)).toBe(false);
        }
      });

      test('secrets stay in the Secret; the configuration holds no password', () => {
        for (const key of ['DATABASE_URL', 'DIRECT_URL', 'JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY']) {
          expect(secret[key], key).toBeDefined();
          expect(config[key], key).toBeUndefined();
        }
        const auth = deploymentRunning(objects, `${SERVICES.auth.dir}/server.ts`) as KubernetesObject;
        for (const workload of objectsOfKind(objects, 'Deployment').filter((deployment) => deployment !== auth)) {
          expect(
            containerEnvironment(objects, firstContainer(workload)).JWT_PRIVATE_KEY,
            workload.metadata.name,
          ).toBeUndefined();
        }
      });
    });
  }
});
