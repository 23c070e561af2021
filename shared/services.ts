// The one list of poolwise's services. Configuration keys, the gateway's upstreams, the dev runner,
// the doctor's connection budget, the status page, test support and the compose check all derive
// from it. Adding a worker is a folder (app.ts + server.ts), one entry here, and its migration.

export interface ServiceDefinition {
  /** The name the incident report's log lines use: `[ClientService] Using TRANSACTION POOLER ...`. */
  logName: string;
  /** The service's folder, relative to the repository root; it holds `app.ts` and `server.ts`. */
  dir: string;
  /** Port in development; `<NAME>_PORT` overrides it. */
  defaultPort: number;
  /** Workers only: the public path segment after /api/v1/ the gateway forwards to this worker. */
  pathPrefix?: string;
  /** Workers only: holds the JWT private key (every other service verifies with the public key). */
  signsTokens?: boolean;
}

export const SERVICES = {
  gateway: { logName: 'Gateway', dir: 'gateway', defaultPort: 3000 },
  auth: { logName: 'AuthService', dir: 'workers/auth', defaultPort: 3001, pathPrefix: 'auth', signsTokens: true },
  user: { logName: 'UserService', dir: 'workers/user', defaultPort: 3002, pathPrefix: 'users' },
  client: { logName: 'ClientService', dir: 'workers/client', defaultPort: 3003, pathPrefix: 'clients' },
} as const satisfies Record<string, ServiceDefinition>;

export type ServiceRegistry = Record<string, ServiceDefinition>;
export type ServiceName = keyof typeof SERVICES;
export type WorkerName = {
  [S in ServiceName]: (typeof SERVICES)[S] extends { pathPrefix: string } ? S : never;
}[ServiceName];

export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** Every service the gateway forwards to (those with a path prefix), in registry order. */
export function workerNames<R extends ServiceRegistry>(registry: R): (keyof R & string)[] {
  return Object.keys(registry).filter((name) => registry[name]?.pathPrefix !== undefined);
}
export const WORKER_NAMES = workerNames(SERVICES) as WorkerName[];

// The per-service configuration keys, spelled one way everywhere (config schema, .env, compose).
const upper = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
/** The port it listens on: `CLIENT_PORT`. */
export const portKey = <S extends string>(name: S) => `${upper(name)}_PORT` as `${Uppercase<S>}_PORT`;
/** Where the gateway finds it: `CLIENT_SERVICE_URL` (one URL, a comma-separated list, or a host name). */
export const urlKey = <S extends string>(name: S) => `${upper(name)}_SERVICE_URL` as `${Uppercase<S>}_SERVICE_URL`;
/** How many copies may run (the most an autoscaler may reach): `CLIENT_REPLICAS`. */
export const replicasKey = <S extends string>(name: S) => `${upper(name)}_REPLICAS` as `${Uppercase<S>}_REPLICAS`;

/** Reads a per-service key from a validated configuration (or any record of values). */
export function serviceSetting<T>(config: object, key: string): T | undefined {
  return (config as Record<string, T | undefined>)[key];
}
