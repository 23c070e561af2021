// Prometheus metrics every service shares: requests by route and status, their latency, pool
// acquire timeouts, plus gauges a service adds. One registry per app (tests run several in one process).
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { toCatalogueError } from '../http/error-handler.ts';

export function createHttpMetrics(app: FastifyInstance, service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status_code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer, by route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
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
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
  const children = new Map<
    string,
    { requests: ReturnType<typeof requests.labels>; duration: ReturnType<typeof duration.labels> }
  >();
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
    /**
     * Records a request answered outside Fastify (the gateway's pipeline), on every one of its
     * requests: through each label set's own child, found by one string key, instead of hashing and
     * checking the labels object each time. The children are as many as the label sets, which route
     * patterns (never raw URLs) already bound.
     */
    observe(labels: { method: string; route: string; status_code: string }, seconds: number) {
      const key = `${labels.method} ${labels.route} ${labels.status_code}`;
      let child = children.get(key);
      if (!child) {
        child = { requests: requests.labels(labels), duration: duration.labels(labels) };
        children.set(key, child);
      }
      child.requests.inc();
      child.duration.observe(seconds);
    },
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
