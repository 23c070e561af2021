// Health, readiness, status and Prometheus metrics for a worker.
//   GET /health/live   the process is up
//   GET /health/ready  the database answers through the pool within a short timeout (Redis being
//                      down is reported as `degraded`, never as not ready: it is only a cache);
//                      answers are reused for a second, so probes cannot occupy the pool
//   GET /status        pool mode, size and live usage, cache counters: what the gateway's /status page shows
//   GET /metrics       Prometheus text
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServiceName } from '../config-schema.ts';
import { NotReady } from '../http/errors.ts';
import { READINESS_REUSE_MS, reuseRecentResult } from '../recent-result.ts';
import { withTimeout } from '../with-timeout.ts';
import { createHttpMetrics } from './http-metrics.ts';

const READY_TIMEOUT_MS = 2_000;

export const workerStatusSchema = {
  $id: 'WorkerStatus',
  type: 'object',
  required: ['service', 'mode', 'poolSize', 'pool', 'acquireTimeouts', 'cache'],
  properties: {
    service: { type: 'string' },
    mode: { type: 'string', enum: ['transaction', 'session', 'direct'] },
    poolSize: { type: 'integer' },
    pool: {
      type: 'object',
      required: ['total', 'idle', 'waiting'],
      properties: { total: { type: 'integer' }, idle: { type: 'integer' }, waiting: { type: 'integer' } },
    },
    acquireTimeouts: { type: 'integer' },
    cache: {
      type: 'object',
      required: ['kind', 'hits', 'misses', 'bypasses', 'errors'],
      properties: {
        kind: { type: 'string' },
        hits: { type: 'integer' },
        misses: { type: 'integer' },
        bypasses: { type: 'integer' },
        errors: { type: 'integer' },
      },
    },
  },
} as const;

export const workerObservabilityPlugin = fp<{ service: ServiceName }>(
  async (app: FastifyInstance, { service }) => {
    const metrics = createHttpMetrics(app, service);
    const { pool, config: dbConfig } = app.db;
    metrics.gauge('db_pool_connections', 'Connections of this process’s pool, by state', ['state'], (gauge) => {
      gauge.set({ state: 'total' }, pool.totalCount);
      gauge.set({ state: 'idle' }, pool.idleCount);
      gauge.set({ state: 'waiting' }, pool.waitingCount);
    });
    metrics.gauge('db_pool_size', 'Configured pool size (DB_POOL_SIZE)', [], (gauge) => gauge.set(dbConfig.pool.max));
    metrics.gauge('db_pool_mode', 'The classified database address (1 for the active mode)', ['mode'], (gauge) => {
      for (const mode of ['transaction', 'session', 'direct']) gauge.set({ mode }, mode === dbConfig.mode ? 1 : 0);
    });
    metrics.gauge('cache_operations', 'Cache reads and failures since start, by result', ['result'], (gauge) => {
      const { hits, misses, bypasses, errors } = app.cache.stats;
      gauge.set({ result: 'hit' }, hits);
      gauge.set({ result: 'miss' }, misses);
      gauge.set({ result: 'bypass' }, bypasses);
      gauge.set({ result: 'error' }, errors);
    });
    app.addSchema(workerStatusSchema);

    const checkDependencies = reuseRecentResult(async () => {
      try {
        await withTimeout(app.db.prisma.$queryRaw`SELECT 1`, READY_TIMEOUT_MS, 'the database');
      } catch (error) {
        app.log.warn({ err: error }, 'not ready: database check failed');
        throw new NotReady('the database does not answer through the pool');
      }
      const cache = await app.cache.check();
      return { status: cache === 'degraded' ? 'degraded' : 'ready', service, checks: { database: 'ok', cache } };
    }, READINESS_REUSE_MS);

    app.get('/health/live', { schema: { summary: 'The process is up' } }, async () => ({ status: 'ok', service }));
    app.get(
      '/health/ready',
      { schema: { summary: 'The database answers through the pool; Redis is reported, never required' } },
      async () => {
        // Told to stop: not ready at once (never from a reused answer), so balancers stop sending
        // new requests while in-flight ones finish.
        if (app.draining) throw new NotReady('shutting down');
        return checkDependencies();
      },
    );
    app.get('/status', { schema: { hide: true, response: { 200: { $ref: 'WorkerStatus#' } } } }, async () => ({
      service,
      mode: dbConfig.mode,
      poolSize: dbConfig.pool.max,
      pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
      acquireTimeouts: metrics.acquireTimeouts(),
      cache: { kind: app.cache.kind, ...app.cache.stats },
    }));
  },
  { name: 'poolwise-worker-observability', dependencies: ['poolwise-database', 'poolwise-cache'] },
);
