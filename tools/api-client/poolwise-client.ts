// A typed client of the API: openapi-fetch over the types openapi-typescript generated from the
// served document (generated/poolwise-api.ts). Paths, parameters, bodies and answers are all checked
// by the compiler; `bun run typecheck` compiles it in CI. What a TypeScript consumer would write.
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './generated/poolwise-api.ts';

export type PoolwiseClient = Client<paths>;

/** A client of the gateway at `baseUrl`; `middleware` sees every request and answer (tests check them). */
export function createPoolwiseClient(baseUrl: string, middleware: Middleware[] = []): PoolwiseClient {
  const client = createClient<paths>({ baseUrl });
  for (const one of middleware) client.use(one);
  return client;
}

/** Sends the access token on every request once it is set. */
export function bearer(token: () => string | undefined): Middleware {
  return {
    onRequest({ request }) {
      const value = token();
      if (value) request.headers.set('authorization', `Bearer ${value}`);
      return request;
    },
  };
}
