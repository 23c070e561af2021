// The four services, built with buildApp and listening on free ports, as `bun run dev` runs them
// (but in one process), for end-to-end tests through the gateway.
import type { FastifyInstance } from 'fastify';
import { buildAndStartGateway } from '../../gateway/app.ts';
import type { RunningGateway } from '../../gateway/front-door.ts';
import { buildApp as buildAuth } from '../../workers/auth/app.ts';
import { buildApp as buildClient } from '../../workers/client/app.ts';
import { buildApp as buildUser } from '../../workers/user/app.ts';
import { testConfig, testKeys, uniqueEmail } from './helpers.ts';
import { useTestStack } from './test-stack.ts';

export interface RunningSystem {
  gatewayUrl: string;
  gateway: RunningGateway;
  apps: { auth: FastifyInstance; user: FastifyInstance; client: FastifyInstance };
  close(): Promise<void>;
}

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** Generous limits by default, so suites that register many users are not throttled; limit tests lower them. */
const TEST_LIMITS = { AUTH_RATE_LIMIT_MAX: '10000', AUTH_ACCOUNT_RATE_LIMIT_MAX: '10000', RATE_LIMIT_MAX: '100000' };

export async function startSystem(requested: Record<string, string> = {}): Promise<RunningSystem> {
  await useTestStack();
  const overrides = { ...TEST_LIMITS, ...requested };
  const auth = await buildAuth({ config: testConfig('auth', overrides), keys: testKeys });
  const user = await buildUser({ config: testConfig('user', overrides), keys: { publicKey: testKeys.publicKey } });
  const client = await buildClient({
    config: testConfig('client', overrides),
    keys: { publicKey: testKeys.publicKey },
  });
  const [authUrl, userUrl, clientUrl] = await Promise.all([listen(auth), listen(user), listen(client)]);
  const gateway = await buildAndStartGateway({
    config: testConfig('gateway', {
      AUTH_SERVICE_URL: authUrl,
      USER_SERVICE_URL: userUrl,
      CLIENT_SERVICE_URL: clientUrl,
      ...overrides,
    }),
    keys: { publicKey: testKeys.publicKey },
    host: '127.0.0.1',
    port: 0,
  });
  const gatewayUrl = gateway.url;
  return {
    gatewayUrl,
    gateway,
    apps: { auth, user, client },
    async close() {
      await gateway.close();
      await Promise.all([auth.close(), user.close(), client.close()]);
    },
  };
}

/** JSON request helper that keeps status, headers and parsed body together. */
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
  return { status: response.status, headers: response.headers, body };
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
