// Every configuration key the services read, with its default and limits. The per-service keys
// (`<NAME>_PORT`, `<NAME>_SERVICE_URL`, `<NAME>_REPLICAS`) are derived from the service registry
// (shared/services.ts). README's configuration table mirrors this file; shared/env.test.ts checks
// the limits.
import {
  portKey,
  replicasKey,
  SERVICES,
  type ServiceName,
  type ServiceRegistry,
  urlKey,
  type WorkerName,
  workerNames,
} from './services.ts';

export type { ServiceName } from './services.ts';

const port = (fallback: number) => ({ type: 'integer', minimum: 0, maximum: 65535, default: fallback });

const sharedKeysSchema = {
  type: 'object',
  properties: {
    // Unset means production: development behaviour (generated JWT keys, accepted `dev-only-`
    // secrets, a warning instead of a refusal for a session-mode address) must be asked for, by the
    // committed .env, `bun run dev`, compose or the test run, never reached by forgetting a variable.
    NODE_ENV: { type: 'string', enum: ['development', 'test', 'production'], default: 'production' },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    },
    LOG_PRETTY: { type: 'boolean', default: false },
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    OPS_HOST: { type: 'string', minLength: 1 },
    OPS_PORT: { type: 'integer', minimum: 0, maximum: 65535 },
    // At most 250: the gateway's idle timeout must sit above it (Bun.serve allows 255 s at most), or a
    // slow worker would end in a closed connection instead of a 504.
    UPSTREAM_TIMEOUT: { type: 'number', exclusiveMinimum: 0, maximum: 250, default: 10 },
    UPSTREAM_BALANCING: { type: 'string', enum: ['least-outstanding', 'round-robin'], default: 'least-outstanding' },
    // Admission control at the gateway (gateway/pipeline/admission.ts); 0 in-flight turns it off.
    UPSTREAM_MAX_IN_FLIGHT: { type: 'integer', minimum: 0, maximum: 100000, default: 64 },
    // A deep queue with a short deadline: a request refused at once comes straight back from a client
    // that ignores Retry-After and costs CPU the worker needs, one that waits its 500 ms does not.
    // 64 made 1,000 retrying clients serve 0.39x of 64 clients; 1,024 keeps them at about 1.1x.
    UPSTREAM_QUEUE_LIMIT: { type: 'integer', minimum: 0, maximum: 100000, default: 1024 },
    UPSTREAM_QUEUE_TIMEOUT_MS: { type: 'integer', minimum: 1, maximum: 60000, default: 500 },
    // Retry-After on those 503s is the client's turn at the worker's pace (gateway/pipeline/retry-after.ts),
    // at most this; 1 is the old constant. 10 covers 10,000 clients at ~700 answers/s within a few
    // refusals each and stays under the gateway's keep-alive idle timeout (UPSTREAM_TIMEOUT + 5 s).
    UPSTREAM_RETRY_AFTER_MAX_SECONDS: { type: 'integer', minimum: 1, maximum: 3600, default: 10 },
    OVERLOAD_EVENT_LOOP_DELAY_MS: { type: 'integer', minimum: 0, maximum: 60000, default: 1000 },
    SHUTDOWN_DELAY_SECONDS: { type: 'number', minimum: 0, maximum: 120, default: 0 },

    TRUST_PROXY_HOPS: { type: 'integer', minimum: 0, maximum: 10, default: 0 },
    CORS_ORIGINS: { type: 'string', format: 'origin-list' },
    RATE_LIMIT_MAX: { type: 'integer', minimum: 1, maximum: 10000000, default: 600 },
    RATE_LIMIT_WINDOW: { type: 'integer', minimum: 1, maximum: 86400, default: 60 },
    AUTH_RATE_LIMIT_MAX: { type: 'integer', minimum: 1, maximum: 1000000, default: 20 },
    AUTH_ACCOUNT_RATE_LIMIT_MAX: { type: 'integer', minimum: 1, maximum: 1000000, default: 5 },
    AUTH_LOGIN_FAILURES_BEFORE_DELAY: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
    AUTH_LOGIN_MAX_DELAY: { type: 'integer', minimum: 1, maximum: 86400, default: 900 },

    DATABASE_URL: { type: 'string', format: 'postgres-url' },
    DIRECT_URL: { type: 'string', format: 'postgres-url' },
    DB_POOL_SIZE: { type: 'integer', minimum: 1, maximum: 100 },
    DB_POOL_TIMEOUT: { type: 'number', exclusiveMinimum: 0, maximum: 600 },
    DB_IDLE_TIMEOUT: { type: 'number', minimum: 0, maximum: 3600, default: 10 },
    DB_QUERY_TIMEOUT: { type: 'number', exclusiveMinimum: 0, maximum: 600, default: 5 },
    DB_POOL_MODE: { type: 'string', enum: ['transaction', 'session', 'direct'] },
    DB_CONNECTION_BUDGET: { type: 'integer', minimum: 1, maximum: 100000 },

    REDIS_URL: { type: 'string', format: 'redis-url' },
    CACHE_ENABLED: { type: 'boolean', default: true },
    CACHE_TTL: { type: 'integer', minimum: 1, maximum: 86400, default: 30 },
    CACHE_TIMEOUT_MS: { type: 'integer', minimum: 5, maximum: 5000, default: 100 },
    EDGE_CACHE_ENABLED: { type: 'boolean', default: true },

    JWT_PRIVATE_KEY: { type: 'string', minLength: 1 },
    JWT_PUBLIC_KEY: { type: 'string', minLength: 1 },
    JWT_ISSUER: { type: 'string', minLength: 1, default: 'poolwise-auth' },
    JWT_AUDIENCE: { type: 'string', minLength: 1, default: 'poolwise-api' },
    ACCESS_TOKEN_TTL: { type: 'integer', minimum: 30, maximum: 900, default: 900 },
    REFRESH_TOKEN_TTL: { type: 'integer', minimum: 300, maximum: 7776000, default: 2592000 },

    DEV_DATA_DIR: { type: 'string', minLength: 1 },

    SEED_ADMIN_EMAIL: { type: 'string', format: 'email-ish', default: 'admin@poolwise.local' },
    SEED_ADMIN_PASSWORD: { type: 'string', minLength: 8, maxLength: 128 },
  },
} as const;

/** The keys every service of `registry` has: its port, its address(es) if a worker, its replica count. */
function perServiceKeysSchema(registry: ServiceRegistry): Record<string, object> {
  const properties: Record<string, object> = {};
  const workers = new Set(workerNames(registry));
  for (const [name, service] of Object.entries(registry)) {
    properties[portKey(name)] = port(service.defaultPort);
    properties[replicasKey(name)] = { type: 'integer', minimum: 1, maximum: 1000, default: 1 };
    // One address, a comma-separated list of replicas, or a host name resolving to several.
    if (workers.has(name)) properties[urlKey(name)] = { type: 'string', format: 'http-url-list' };
  }
  return properties;
}

/** The whole configuration schema for the services of `registry`. */
export function configJsonSchemaFor(registry: ServiceRegistry = SERVICES) {
  return {
    type: 'object',
    properties: { ...sharedKeysSchema.properties, ...perServiceKeysSchema(registry) },
  } as const;
}

export const configJsonSchema = configJsonSchemaFor(SERVICES);
export const CONFIG_KEYS = Object.keys(configJsonSchema.properties);

/** Keys a service cannot start without: every worker has a database pool. */
export function requiredKeys(service: string, registry: ServiceRegistry = SERVICES): string[] {
  return registry[service]?.pathPrefix !== undefined ? ['DATABASE_URL'] : [];
}

/** Keys holding secrets: masked in logs, and refused in production when they carry a development value. */
export const SECRET_KEYS = ['JWT_PRIVATE_KEY', 'SEED_ADMIN_PASSWORD', 'DATABASE_URL', 'DIRECT_URL', 'REDIS_URL'];

/**
 * Development secrets in the committed `.env` start with this marker, so a production start can
 * recognise and refuse them whatever file or variable they arrive through.
 */
export const DEVELOPMENT_SECRET_MARKER = 'dev-only-';

/** The keys derived from the registry, typed: `CLIENT_PORT`, `CLIENT_SERVICE_URL`, `CLIENT_REPLICAS`... */
export type PerServiceConfig = { [S in ServiceName as `${Uppercase<S>}_PORT`]: number } & {
  [S in ServiceName as `${Uppercase<S>}_REPLICAS`]: number;
} & { [S in WorkerName as `${Uppercase<S>}_SERVICE_URL`]?: string };

export type ServiceConfig = SharedConfig & PerServiceConfig;

export interface SharedConfig {
  NODE_ENV: 'development' | 'test' | 'production';
  LOG_LEVEL: string;
  LOG_PRETTY: boolean;
  HOST: string;
  /** The gateway's operations listener (readiness, metrics, status, docs): its address, default HOST. */
  OPS_HOST?: string;
  /** Its port: 9100 in production when unset; in development and test, unset serves them on the public port. */
  OPS_PORT?: number;
  UPSTREAM_TIMEOUT: number;
  /** How the gateway spreads a worker's requests over its replicas. */
  UPSTREAM_BALANCING: 'least-outstanding' | 'round-robin';
  /** Requests the gateway forwards at once per replica of a worker (0 = no admission control). */
  UPSTREAM_MAX_IN_FLIGHT: number;
  /** Requests that may wait at the gateway for a slot, per replica; beyond it, 503 at once. */
  UPSTREAM_QUEUE_LIMIT: number;
  /** How long one of them may wait before it is answered 503 SERVICE_OVERLOADED. */
  UPSTREAM_QUEUE_TIMEOUT_MS: number;
  /** The longest Retry-After the gateway's admission refusals carry (1 = always 1 s). */
  UPSTREAM_RETRY_AFTER_MAX_SECONDS: number;
  /** Event-loop delay above which requests get 503 SERVICE_OVERLOADED (0 turns the check off). */
  OVERLOAD_EVENT_LOOP_DELAY_MS: number;
  /** On SIGTERM, readiness fails this long before the port closes (balancers stop sending first). */
  SHUTDOWN_DELAY_SECONDS: number;
  /** Proxies in front of the gateway (an ingress, a load balancer) whose X-Forwarded-For is trusted; workers trust one more, the gateway. */
  TRUST_PROXY_HOPS: number;
  /** Browser origins allowed to call the API cross-origin, comma-separated (`https://app.example.com`); unset allows none. */
  CORS_ORIGINS?: string;
  RATE_LIMIT_MAX: number;
  RATE_LIMIT_WINDOW: number;
  AUTH_RATE_LIMIT_MAX: number;
  /** Register (per email) and refresh (per token) attempts per RATE_LIMIT_WINDOW; login is limited by failures instead. */
  AUTH_ACCOUNT_RATE_LIMIT_MAX: number;
  /** Failed logins one address may have for one account before it waits (workers/auth/login-backoff.ts). */
  AUTH_LOGIN_FAILURES_BEFORE_DELAY: number;
  /** The longest that wait grows to, in seconds (1 s, doubling per further failure). */
  AUTH_LOGIN_MAX_DELAY: number;
  DATABASE_URL?: string;
  DIRECT_URL?: string;
  DB_POOL_SIZE?: number;
  DB_POOL_TIMEOUT?: number;
  DB_IDLE_TIMEOUT: number;
  /** Seconds one statement may run on a connection before the service gives up on it (then 503). */
  DB_QUERY_TIMEOUT: number;
  DB_POOL_MODE?: 'transaction' | 'session' | 'direct';
  DB_CONNECTION_BUDGET?: number;
  REDIS_URL?: string;
  CACHE_ENABLED: boolean;
  CACHE_TTL: number;
  CACHE_TIMEOUT_MS: number;
  /** The gateway answers cached client-list pages itself when Redis is configured. */
  EDGE_CACHE_ENABLED: boolean;
  JWT_PRIVATE_KEY?: string;
  JWT_PUBLIC_KEY?: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  ACCESS_TOKEN_TTL: number;
  REFRESH_TOKEN_TTL: number;
  /** Where `bun run dev` keeps its embedded PostgreSQL (default `.data`). */
  DEV_DATA_DIR?: string;
  SEED_ADMIN_EMAIL: string;
  SEED_ADMIN_PASSWORD?: string;
}
