// The gateway's own health, readiness (which includes its workers), metrics, the status data the
// /status page polls, and the interactive API reference at /docs.
import apiReference from '@scalar/fastify-api-reference';
import type { FastifyInstance } from 'fastify';
import { REPLICA_KEYS, type ServiceConfig } from '../shared/config-schema.ts';
import { BUDGET_HEADROOM } from '../shared/connection-budget.ts';
import { NotReady } from '../shared/http/errors.ts';
import { createHttpMetrics } from '../shared/plugins/http-metrics.ts';
import { statusPageHtml } from './status-page.ts';
import type { Upstream } from './upstreams.ts';

const PROBE_TIMEOUT_MS = 2_000;

async function fetchJson(url: URL): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  return { status: response.status, body: await response.json() };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Counts an API request the front door answered, in this app's metrics. */
    observeProxied(labels: { method: string; route: string; status_code: string }, seconds: number): void;
  }
}

export async function registerGatewayObservability(app: FastifyInstance, config: ServiceConfig, upstreams: Upstream[]) {
  const metrics = createHttpMetrics(app, 'gateway');
  app.decorate('observeProxied', metrics.observe);
  const hidden = { schema: { hide: true } };

  app.get('/health/live', { schema: { summary: 'The gateway process is up' } }, async () => ({
    status: 'ok',
    service: 'gateway',
  }));

  app.get('/health/ready', { schema: { summary: 'Ready when every worker is ready' } }, async () => {
    const workers: Record<string, string> = {};
    await Promise.all(
      upstreams.map(async (upstream) => {
        try {
          const { status, body } = await fetchJson(new URL('/health/ready', upstream.baseUrl));
          workers[upstream.name] = status === 200 ? String((body as { status: string }).status) : 'not_ready';
        } catch {
          workers[upstream.name] = 'unreachable';
        }
      }),
    );
    const failing = Object.entries(workers).filter(([, state]) => state !== 'ready' && state !== 'degraded');
    if (failing.length > 0) throw new NotReady(failing.map(([name, state]) => `${name} ${state}`).join(', '));
    const degraded = Object.values(workers).includes('degraded');
    return { status: degraded ? 'degraded' : 'ready', service: 'gateway', workers };
  });

  app.get('/status.json', hidden, async () => {
    const services = await Promise.all(
      upstreams.map(async (upstream) => {
        const key = REPLICA_KEYS[upstream.name as keyof typeof REPLICA_KEYS];
        const replicas = key ? config[key] : 1;
        try {
          const { body } = await fetchJson(new URL('/status', upstream.baseUrl));
          return { ...(body as object), service: upstream.name, replicas, reachable: true };
        } catch {
          return { service: upstream.name, replicas, reachable: false };
        }
      }),
    );
    const used = services.reduce(
      (sum, service) => sum + ((service as { poolSize?: number }).poolSize ?? 0) * service.replicas,
      0,
    );
    return {
      generatedAt: new Date().toISOString(),
      services,
      budget: { used, headroom: BUDGET_HEADROOM, connections: config.DB_CONNECTION_BUDGET ?? null },
    };
  });

  app.get('/status', hidden, async (_request, reply) => reply.type('text/html; charset=utf-8').send(statusPageHtml()));

  await app.register(apiReference, {
    routePrefix: '/docs',
    // The merged document the gateway serves; no fonts from a CDN (the reference works offline).
    configuration: { url: '/openapi.json', withDefaultFonts: false, title: 'poolwise API' },
    logLevel: 'warn',
  });
  return metrics;
}
