// The gateway's own health, readiness (which includes every replica of every worker), metrics, the
// status data the /status page polls, and the interactive API reference at /docs (on its own thread:
// docs-routes.ts).
import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../shared/config-schema.ts';
import { BUDGET_HEADROOM, pooledConnections } from '../shared/connection-budget.ts';
import { NotReady } from '../shared/http/errors.ts';
import { createHttpMetrics } from '../shared/plugins/http-metrics.ts';
import { READINESS_REUSE_MS, reuseRecentResult } from '../shared/recent-result.ts';
import { replicasKey, serviceSetting } from '../shared/services.ts';
import { registerDocsRoutes } from './docs-routes.ts';
import type { UpstreamObservation } from './pipeline/forward.ts';
import type { Replica, ReplicaSet } from './replica-set.ts';
import { statusPageHtml } from './status-page.ts';
import type { Upstream } from './upstreams.ts';

const PROBE_TIMEOUT_MS = 2_000;

async function fetchJson(url: URL): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  return { status: response.status, body: await response.json() };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Counts an API request the pipeline answered, in this app's metrics. */
    observeProxied(labels: { method: string; route: string; status_code: string }, seconds: number): void;
    /** Counts one attempt on one replica of a worker. */
    observeUpstream(observation: UpstreamObservation, seconds: number): void;
  }
}

const replicaState = (set: ReplicaSet, replica: Replica) => (set.inRotation(replica) ? 'in rotation' : 'ejected');

export async function registerOperationsRoutes(app: FastifyInstance, config: ServiceConfig, upstreams: Upstream[]) {
  const metrics = createHttpMetrics(app, 'gateway');
  app.decorate('observeProxied', metrics.observe);
  const attempts = metrics.counter(
    'gateway_upstream_attempts_total',
    'Attempts the gateway made on each replica of each worker, by outcome (a status, refused, broken, timeout, moved)',
    ['upstream', 'replica', 'outcome'],
  );
  app.decorate('observeUpstream', (observation: UpstreamObservation) => attempts.inc({ ...observation }));
  metrics.gauge(
    'gateway_upstream_replica_up',
    '1 while a replica is in rotation, 0 while ejected',
    ['upstream', 'replica'],
    (gauge) => {
      for (const upstream of upstreams) {
        for (const replica of upstream.replicas.list()) {
          gauge.set(
            { upstream: upstream.name, replica: replica.origin },
            upstream.replicas.inRotation(replica) ? 1 : 0,
          );
        }
      }
    },
  );
  metrics.gauge(
    'gateway_upstream_in_flight',
    'Requests the gateway has in flight on each replica',
    ['upstream', 'replica'],
    (gauge) => {
      for (const upstream of upstreams) {
        for (const replica of upstream.replicas.list()) {
          gauge.set({ upstream: upstream.name, replica: replica.origin }, replica.inFlight);
        }
      }
    },
  );
  const hidden = { schema: { hide: true } };

  app.get('/health/live', { schema: { summary: 'The gateway process is up', hide: true } }, async () => ({
    status: 'ok',
    service: 'gateway',
  }));

  // Concurrent probes share one round of asking, and its answer is reused for a second (as each
  // worker does with its own check): a flood here cannot become a flood at every replica.
  const checkWorkers = reuseRecentResult(async () => {
    const workers: Record<string, string> = {};
    await Promise.all(
      upstreams.map(async (upstream) => {
        const states = await Promise.all(
          upstream.replicas.list().map(async (replica) => {
            try {
              const { status, body } = await fetchJson(new URL('/health/ready', replica.origin));
              return status === 200 ? String((body as { status: string }).status) : 'not_ready';
            } catch {
              return 'unreachable';
            }
          }),
        );
        // One ready replica is enough to serve; the best state stands for the worker.
        workers[upstream.name] = ['ready', 'degraded', 'not_ready', 'unreachable'].find((state) =>
          states.includes(state),
        ) as string;
      }),
    );
    const failing = Object.entries(workers).filter(([, state]) => state !== 'ready' && state !== 'degraded');
    if (failing.length > 0) throw new NotReady(failing.map(([name, state]) => `${name} ${state}`).join(', '));
    const degraded = Object.values(workers).includes('degraded');
    return { status: degraded ? 'degraded' : 'ready', service: 'gateway', workers };
  }, READINESS_REUSE_MS);
  // Health routes are for probes, not API consumers: hidden from the API document like metrics and status.
  app.get('/health/ready', { schema: { hide: true } }, async () => {
    // Told to stop: not ready at once (never from a reused answer), so balancers stop sending first.
    if (app.draining) throw new NotReady('shutting down');
    return checkWorkers();
  });

  app.get('/status.json', hidden, async () => {
    const services = await Promise.all(
      upstreams.map(async (upstream) => {
        // Each replica reports its own pool (mode, size, usage, cache); the gateway adds what it sees.
        const instances = await Promise.all(
          upstream.replicas.list().map(async (replica) => {
            const seen = {
              address: replica.origin,
              state: replicaState(upstream.replicas, replica),
              inFlight: replica.inFlight,
            };
            try {
              const { body } = await fetchJson(new URL('/status', replica.origin));
              return { ...seen, reachable: true, report: body as Record<string, unknown> };
            } catch {
              return { ...seen, reachable: false, lastFailure: replica.lastFailure, report: undefined };
            }
          }),
        );
        const configured = instances.find((instance) => instance.report)?.report ?? {};
        return {
          ...configured,
          service: upstream.name,
          replicas: instances.length,
          maxReplicas: serviceSetting<number>(config, replicasKey(upstream.name)) ?? 1,
          reachable: instances.some((instance) => instance.reachable),
          instances: instances.map(({ report, ...instance }) => ({ ...report, ...instance })),
        };
      }),
    );
    // The budget from the replicas actually running (each reports its own pool size).
    const used = pooledConnections(
      services.flatMap((service) =>
        service.instances.map((instance) => ({ poolSize: (instance as { poolSize?: number }).poolSize, replicas: 1 })),
      ),
    );
    return {
      generatedAt: new Date().toISOString(),
      services,
      budget: { used, headroom: BUDGET_HEADROOM, connections: config.DB_CONNECTION_BUDGET ?? null },
    };
  });

  app.get('/status', hidden, async (_request, reply) => reply.type('text/html; charset=utf-8').send(statusPageHtml()));

  registerDocsRoutes(app, hidden);
  return metrics;
}
