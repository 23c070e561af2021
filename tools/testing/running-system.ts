// Every service of the registry, built with buildApp and listening on free ports, as `bun run dev`
// runs them (but in one process), for end-to-end tests through the gateway. The gateway starts
// through listenGateway(), exactly as its server.ts does.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp as buildGateway } from '../../gateway/app.ts';
import { type ListeningGateway, listenGateway } from '../../gateway/listen.ts';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { SERVICES, urlKey, WORKER_NAMES, type WorkerName } from '../../shared/services.ts';
import { assertDocumentedAnswer, checkAnswersAgainstDocument, stopCheckingAnswers } from './contract-check.ts';
import { testConfig, testKeys, uniqueEmail } from './helpers.ts';
import { useTestStack } from './test-stack.ts';

type WorkerBuilder = (options: { config: unknown; keys: unknown }) => Promise<FastifyInstance>;

export interface RunningSystem {
  gatewayUrl: string;
  gateway: ListeningGateway;
  /** The first replica of each worker. */
  apps: Record<WorkerName, FastifyInstance>;
  /** Every replica of each worker, with the address the gateway forwards to. */
  replicas: Record<WorkerName, { app: FastifyInstance; url: string }[]>;
  close(): Promise<void>;
}

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** Generous limits by default, so suites that register many users are not throttled; limit tests lower them. */
const TEST_LIMITS = { AUTH_RATE_LIMIT_MAX: '10000', AUTH_ACCOUNT_RATE_LIMIT_MAX: '10000', RATE_LIMIT_MAX: '100000' };

/** A key overridden with `undefined` is removed (e.g. `REDIS_URL: undefined` for the in-process cache). */
export async function startWorker(
  name: WorkerName,
  overrides: Record<string, string | undefined> = {},
): Promise<FastifyInstance> {
  const { buildApp } = (await import(join(REPOSITORY_ROOT, SERVICES[name].dir, 'app.ts'))) as {
    buildApp: WorkerBuilder;
  };
  const signs = 'signsTokens' in SERVICES[name] && SERVICES[name].signsTokens;
  return buildApp({
    config: testConfig(name, { ...TEST_LIMITS, ...overrides }),
    keys: signs ? testKeys : { publicKey: testKeys.publicKey },
  });
}

export async function startSystem(
  requested: Record<string, string | undefined> = {},
  options: { replicas?: Partial<Record<WorkerName, number>> } = {},
): Promise<RunningSystem> {
  await useTestStack();
  const overrides = { ...TEST_LIMITS, ...requested };
  const replicas = Object.fromEntries(
    await Promise.all(
      WORKER_NAMES.map(async (name) => {
        const count = options.replicas?.[name] ?? 1;
        const apps = await Promise.all(Array.from({ length: count }, () => startWorker(name, overrides)));
        return [name, await Promise.all(apps.map(async (app) => ({ app, url: await listen(app) })))];
      }),
    ),
  ) as RunningSystem['replicas'];
  const addresses = Object.fromEntries(
    WORKER_NAMES.map((name) => [urlKey(name), replicas[name].map((replica) => replica.url).join(',')]),
  );
  const gatewayApp = await buildGateway({
    config: testConfig('gateway', { ...addresses, ...overrides }),
    keys: { publicKey: testKeys.publicKey },
  });
  const gateway = await listenGateway(gatewayApp, { host: '127.0.0.1', port: 0, upstreamTimeoutSeconds: 10 });
  // Every answer call() gets from this gateway must be one its OpenAPI document allows. The document is
  // read now, while every worker is up, from the route the gateway serves it on (through inject(), so
  // reading it counts against no rate limit a test sets).
  const served = await gatewayApp.operations.inject({ method: 'GET', url: '/openapi.json' });
  await checkAnswersAgainstDocument(gateway.url, served.json());
  return {
    gatewayUrl: gateway.url,
    gateway,
    apps: Object.fromEntries(WORKER_NAMES.map((name) => [name, replicas[name][0]?.app])) as RunningSystem['apps'],
    replicas,
    async close() {
      stopCheckingAnswers(gateway.url);
      await gateway.close();
      await Promise.all(WORKER_NAMES.flatMap((name) => replicas[name].map((replica) => replica.app.close())));
    },
  };
}

/**
 * JSON request helper that keeps status, headers and parsed body together. Against a running system's
 * gateway, it throws when the answer is not one the served OpenAPI document allows (contract-check.ts).
 */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on response bodies field by field
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  const answer = { status: response.status, headers: response.headers, body };
  await assertDocumentedAnswer(baseUrl, method, path, answer);
  return answer;
}

/** Registers a fresh user through the gateway and returns its tokens and id. */
export async function registerUser(baseUrl: string, label = 'user', password = 'a long enough password') {
  const email = uniqueEmail(label);
  const response = await call(baseUrl, 'POST', '/api/v1/auth/register', { body: { email, password, name: label } });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
  return {
    email,
    password,
    id: response.body.user.id as string,
    accessToken: response.body.accessToken as string,
    refreshToken: response.body.refreshToken as string,
  };
}
