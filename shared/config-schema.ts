// Every configuration key the services read, with its default and limits. README's configuration
// table mirrors this file; shared/config-schema.test.ts checks the limits.

export const SERVICE_NAMES = ['gateway', 'auth', 'user', 'client'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Where each service's own files live, relative to the repository root. */
export const SERVICE_DIRS: Record<ServiceName, string> = {
  gateway: 'gateway',
  auth: 'workers/auth',
  user: 'workers/user',
  client: 'workers/client',
};

/** The names the incident report's log lines use. */
export const SERVICE_LOG_NAMES: Record<ServiceName, string> = {
  gateway: 'Gateway',
  auth: 'AuthService',
  user: 'UserService',
  client: 'ClientService',
};

/** Which key says how many copies of each worker run (the connection budget multiplies by these). */
export const REPLICA_KEYS = { auth: 'AUTH_REPLICAS', user: 'USER_REPLICAS', client: 'CLIENT_REPLICAS' } as const;

const port = (fallback: number) => ({ type: 'integer', minimum: 0, maximum: 65535, default: fallback });
const httpUrl = { type: 'string', format: 'http-url' };

export const configJsonSchema = {
  type: 'object',
  properties: {
    NODE_ENV: { type: 'string', enum: ['development', 'test', 'production'], default: 'development' },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    },
    LOG_PRETTY: { type: 'boolean', default: false },
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    GATEWAY_PORT: port(3000),
    AUTH_PORT: port(3001),
    USER_PORT: port(3002),
    CLIENT_PORT: port(3003),
    AUTH_SERVICE_URL: httpUrl,
    USER_SERVICE_URL: httpUrl,
    CLIENT_SERVICE_URL: httpUrl,
    UPSTREAM_TIMEOUT: { type: 'number', exclusiveMinimum: 0, maximum: 300, default: 10 },
    OVERLOAD_EVENT_LOOP_DELAY_MS: { type: 'integer', minimum: 0, maximum: 60000, default: 1000 },

    TRUST_PROXY_HOPS: { type: 'integer', minimum: 0, maximum: 10 },
    RATE_LIMIT_MAX: { type: 'integer', minimum: 1, maximum: 10000000, default: 600 },
    RATE_LIMIT_WINDOW: { type: 'integer', minimum: 1, maximum: 86400, default: 60 },
    AUTH_RATE_LIMIT_MAX: { type: 'integer', minimum: 1, maximum: 1000000, default: 20 },
    AUTH_ACCOUNT_RATE_LIMIT_MAX: { type: 'integer', minimum: 1, maximum: 1000000, default: 5 },

    DATABASE_URL: { type: 'string', format: 'postgres-url' },
    DIRECT_URL: { type: 'string', format: 'postgres-url' },
    DB_POOL_SIZE: { type: 'integer', minimum: 1, maximum: 100 },
    DB_POOL_TIMEOUT: { type: 'number', exclusiveMinimum: 0, maximum: 600 },
    DB_IDLE_TIMEOUT: { type: 'number', minimum: 0, maximum: 3600, default: 10 },
    DB_POOL_MODE: { type: 'string', enum: ['transaction', 'session', 'direct'] },
    DB_CONNECTION_BUDGET: { type: 'integer', minimum: 1, maximum: 100000 },
    AUTH_REPLICAS: { type: 'integer', minimum: 1, maximum: 1000, default: 1 },
    USER_REPLICAS: { type: 'integer', minimum: 1, maximum: 1000, default: 1 },
    CLIENT_REPLICAS: { type: 'integer', minimum: 1, maximum: 1000, default: 1 },

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

export const CONFIG_KEYS = Object.keys(configJsonSchema.properties);

/** Keys each service cannot start without. */
export const REQUIRED_KEYS: Record<ServiceName, string[]> = {
  gateway: [],
  auth: ['DATABASE_URL'],
  user: ['DATABASE_URL'],
  client: ['DATABASE_URL'],
};

/** Keys holding secrets: masked in logs, and refused in production when they carry a development value. */
export const SECRET_KEYS = ['JWT_PRIVATE_KEY', 'SEED_ADMIN_PASSWORD', 'DATABASE_URL', 'DIRECT_URL', 'REDIS_URL'];

/**
 * Development secrets in the committed `.env` start with this marker, so a production start can
 * recognise and refuse them whatever file or variable they arrive through.
 */
export const DEVELOPMENT_SECRET_MARKER = 'dev-only-';

export interface ServiceConfig {
  NODE_ENV: 'development' | 'test' | 'production';
  LOG_LEVEL: string;
  LOG_PRETTY: boolean;
  HOST: string;
  GATEWAY_PORT: number;
  AUTH_PORT: number;
  USER_PORT: number;
  CLIENT_PORT: number;
  AUTH_SERVICE_URL?: string;
  USER_SERVICE_URL?: string;
  CLIENT_SERVICE_URL?: string;
  UPSTREAM_TIMEOUT: number;
  /** Event-loop delay above which requests get 503 SERVICE_OVERLOADED (0 turns the check off). */
  OVERLOAD_EVENT_LOOP_DELAY_MS: number;
  /** Proxies in front of this service whose X-Forwarded-For is trusted (workers: 1, the gateway). */
  TRUST_PROXY_HOPS?: number;
  RATE_LIMIT_MAX: number;
  RATE_LIMIT_WINDOW: number;
  AUTH_RATE_LIMIT_MAX: number;
  AUTH_ACCOUNT_RATE_LIMIT_MAX: number;
  DATABASE_URL?: string;
  DIRECT_URL?: string;
  DB_POOL_SIZE?: number;
  DB_POOL_TIMEOUT?: number;
  DB_IDLE_TIMEOUT: number;
  DB_POOL_MODE?: 'transaction' | 'session' | 'direct';
  DB_CONNECTION_BUDGET?: number;
  /** How many copies of each worker run (the doctor multiplies pools by these). */
  AUTH_REPLICAS: number;
  USER_REPLICAS: number;
  CLIENT_REPLICAS: number;
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
