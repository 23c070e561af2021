// The typed client a TypeScript consumer would generate (openapi-typescript types + openapi-fetch):
// the committed types are exactly what the served document generates, and the incident's flow
// (register → create → list → refresh) runs through it, every answer checked against the document.
// `bun run typecheck` compiles this file, so the @ts-expect-error lines prove the types are real.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Middleware } from 'openapi-fetch';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { assertDocumentedAnswer } from '../testing/contract-check.ts';
import { uniqueEmail } from '../testing/helpers.ts';
import { type RunningSystem, startSystem } from '../testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../testing/test-stack.ts';
import { GENERATED_TYPES_PATH, openApiTypesSource } from './openapi-types-source.ts';
import { bearer, createPoolwiseClient } from './poolwise-client.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem();
}, 60_000);
afterAll(() => system?.close());

/** Every answer the typed client gets must be one the served document allows. */
const documented = (gatewayUrl: string): Middleware => ({
  async onResponse({ request, response }) {
    const text = await response.clone().text();
    const { pathname, search } = new URL(request.url);
    await assertDocumentedAnswer(gatewayUrl, request.method, pathname + search, {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    });
    return response;
  },
});

describe('the typed client', () => {
  test('its committed types are what the served document generates (else: bun run api-client:generate)', async () => {
    const served = (await (await fetch(`${system.gatewayUrl}/openapi.json`)).json()) as object;
    const committed = readFileSync(join(REPOSITORY_ROOT, GENERATED_TYPES_PATH), 'utf8');
    expect(committed).toBe(await openApiTypesSource(served));
  });

  test('register → create → list → refresh, typed end to end', async () => {
    let accessToken: string | undefined;
    const api = createPoolwiseClient(system.gatewayUrl, [bearer(() => accessToken), documented(system.gatewayUrl)]);

    const registered = await api.POST('/api/v1/auth/register', {
      body: { email: uniqueEmail('typed'), password: 'a long enough password', name: 'Typed' },
    });
    if (!registered.data) throw new Error(`register: ${JSON.stringify(registered.error)}`);
    accessToken = registered.data.accessToken;
    expect(registered.data.user.role).toBe('USER');

    const created = await api.POST('/api/v1/clients', {
      params: { header: { 'idempotency-key': randomUUID() } },
      body: { name: 'Typed Acme', company: 'Acme', status: 'LEAD' },
    });
    expect(created.response.status).toBe(201);
    const clientId = created.data?.id;

    const listed = await api.GET('/api/v1/clients', { params: { query: { search: 'typed', sort: 'name' } } });
    expect(listed.data?.data.map((client) => client.id)).toEqual([clientId as string]);
    expect(listed.data?.meta.total).toBe(1);

    const refreshed = await api.POST('/api/v1/auth/refresh', {
      body: { refreshToken: registered.data.refreshToken },
    });
    if (!refreshed.data) throw new Error(`refresh: ${JSON.stringify(refreshed.error)}`);
    accessToken = refreshed.data.accessToken;
    const again = await api.GET('/api/v1/clients/{id}', { params: { path: { id: clientId as string } } });
    expect(again.data?.name).toBe('Typed Acme');

    // The rotated token is dead: a typed error in the one error shape.
    const reused = await api.POST('/api/v1/auth/refresh', { body: { refreshToken: registered.data.refreshToken } });
    expect(reused.response.status).toBe(401);
    expect(reused.error?.code).toBe('AUTH_REFRESH_REUSED');
  });

  test('the types refuse what the API refuses (checked by the compiler, not at run time)', () => {
    const api = createPoolwiseClient('http://127.0.0.1:1');
    const neverSent = () => {
      // @ts-expect-error no such path
      api.GET('/api/v1/nowhere');
      // @ts-expect-error a client needs a name
      api.POST('/api/v1/clients', { body: { company: 'Acme' } });
      // @ts-expect-error status is one of ACTIVE, INACTIVE, LEAD
      api.PATCH('/api/v1/clients/{id}', { params: { path: { id: 'x' } }, body: { status: 'GONE' } });
    };
    expect(neverSent).toBeFunction();
  });
});
