// Prometheus metrics every service shares: requests by route and status, their latency, pool
// acquire timeouts, plus gauges a service adds. One registry per app (tests run several in one process).
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { toCatalogueError } from '../http/error-handler.ts';
import { type RequestLabels, RequestMetrics } from './request-metrics.ts';

export function createHttpMetrics(app: FastifyInstance, service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  const requests = new RequestMetrics(registry);
  const acquireTimeouts = new Counter({
    name: 'db_pool_acquire_timeouts_total',
    help: 'Requests answered 503 DB_POOL_TIMEOUT: no pooled connection became free in time',
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids and query strings would explode the label set.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    requests.observe(labels, reply.elapsedTime / 1000);
  });
  let acquireTimeoutCount = 0; // the same number, for /status without parsing the registry
  app.addHook('onError', async (_request, _reply, error) => {
    if (toCatalogueError(error).code !== 'DB_POOL_TIMEOUT') return;
    acquireTimeouts.inc();
    acquireTimeoutCount++;
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });

  return {
    registry,
    acquireTimeouts: () => acquireTimeoutCount,
    /** Records a request answered outside Fastify (the gateway's pipeline). */
    observe: (labels: RequestLabels, seconds: number) => requests.observe(labels, seconds),
    /** A counter of this app's registry. */
    counter(name: string, help: string, labelNames: string[]) {
      return new Counter({ name, help, labelNames, registers: [registry] });
    },
    /** A gauge whose value is read when Prometheus scrapes. */
    gauge(name: string, help: string, labelNames: string[], read: (gauge: Gauge) => void) {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          read(this);
        },
      });
    },
  };
}
