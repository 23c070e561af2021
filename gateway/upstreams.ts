// Where the gateway finds each worker, by public path prefix.
import type { ServiceConfig } from '../shared/config-schema.ts';

export interface Upstream {
  /** Name used in errors and logs, e.g. `auth`. */
  name: string;
  baseUrl: string;
}

/** Keyed by the path segment after /api/v1/. */
export function upstreamsFrom(config: ServiceConfig): Record<string, Upstream> {
  const local = (port: number) => `http://127.0.0.1:${port}`;
  return {
    auth: { name: 'auth', baseUrl: config.AUTH_SERVICE_URL ?? local(config.AUTH_PORT) },
    users: { name: 'user', baseUrl: config.USER_SERVICE_URL ?? local(config.USER_PORT) },
    clients: { name: 'client', baseUrl: config.CLIENT_SERVICE_URL ?? local(config.CLIENT_PORT) },
  };
}
