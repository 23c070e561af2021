// No Docker engine runs on our machines, so compose.yaml is checked by reading it: the services,
// ports and environment must line up with what the code reads.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '../shared/config-schema.ts';
import { buildPooledDatabaseConfig } from '../shared/db-config.ts';
import { REPOSITORY_ROOT, validateConfig } from '../shared/env.ts';
import { portKey, SERVICES, urlKey, WORKER_NAMES } from '../shared/services.ts';

interface ComposeService {
  image?: string;
  build?: string;
  volumes?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(join(REPOSITORY_ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
/** Every service of the registry runs in compose under its registry name. */
const APP_SERVICES = Object.fromEntries(
  Object.entries(SERVICES).map(([name, service]) => [name, `${service.dir}/server.ts`]),
);

describe('compose.yaml', () => {
  test('has the whole topology, each part with a health check', () => {
    for (const name of ['postgres', 'pgbouncer', 'pgbouncer-session', 'redis', ...Object.keys(APP_SERVICES)]) {
      expect(services[name], name).toBeDefined();
      expect(services[name]?.healthcheck, `${name} healthcheck`).toBeDefined();
    }
  });

  test('each app service runs its own server.ts from the repository’s one image, not a mounted source', () => {
    // The image's entrypoint is `bun --no-env-file` (tools/deploy/dockerfile.test.ts): the command is the entry file.
    for (const [name, entry] of Object.entries(APP_SERVICES)) {
      expect(services[name]?.command).toEqual([entry]);
    }
    for (const name of [...Object.keys(APP_SERVICES), 'setup']) {
      expect(services[name]?.build, name).toBe('.');
      expect(services[name]?.image, name).toBe(services.gateway?.image as string);
      expect(services[name]?.volumes ?? [], name).not.toContain('.:/app');
    }
    expect(services.setup?.command).toEqual(['tools/migrations/migrate-cli.ts']);
  });

  test('only the gateway publishes a port, the one it listens on', () => {
    const published = Object.entries(services).filter(([, service]) => service.ports?.length);
    expect(published.map(([name]) => name)).toEqual(['gateway']);
    const gatewayPort = services.gateway?.environment?.GATEWAY_PORT;
    expect(services.gateway?.ports).toEqual([`${gatewayPort}:${gatewayPort}`]);
  });

  test('every environment name is one the configuration schema knows, and every value validates', () => {
    for (const name of Object.keys(APP_SERVICES)) {
      const env = services[name]?.environment ?? {};
      for (const key of Object.keys(env)) expect(CONFIG_KEYS, `${name}: ${key}`).toContain(key);
      expect(() => validateConfig(name, env)).not.toThrow();
    }
  });

  test('workers reach PostgreSQL through the transaction pooler; DIRECT_URL is the database itself', () => {
    const pooler = services.pgbouncer?.environment ?? {};
    expect(pooler.POOL_MODE).toBe('transaction');
    for (const name of WORKER_NAMES) {
      const env = services[name]?.environment ?? {};
      const runtime = buildPooledDatabaseConfig({ databaseUrl: env.DATABASE_URL as string });
      expect(runtime.mode, name).toBe('transaction');
      expect(runtime.host).toBe('pgbouncer');
      expect(String(runtime.port)).toBe(pooler.LISTEN_PORT as string);
      const direct = new URL(env.DIRECT_URL as string);
      expect(direct.hostname).toBe('postgres');
    }
  });

  test('the gateway’s upstream URLs point at the workers’ ports', () => {
    const env = services.gateway?.environment ?? {};
    for (const name of WORKER_NAMES) expect(env[urlKey(name)]).toBe(`http://${name}:${env[portKey(name)]}`);
  });

  test('PostgreSQL is capped like a free tier and the pools fit inside it', () => {
    const command = services.postgres?.command?.join(' ') ?? '';
    const maxConnections = Number(/max_connections=(\d+)/.exec(command)?.[1]);
    expect(maxConnections).toBeLessThanOrEqual(30);
    const serverPool = Number(services.pgbouncer?.environment?.DEFAULT_POOL_SIZE);
    const sessionPool = Number(services['pgbouncer-session']?.environment?.DEFAULT_POOL_SIZE);
    expect(serverPool).toBeLessThan(maxConnections);
    expect(sessionPool).toBeLessThanOrEqual(maxConnections);
    const workerPools = WORKER_NAMES.map((name) => Number(services[name]?.environment?.DB_POOL_SIZE));
    expect(workerPools.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(
      Number(services.pgbouncer?.environment?.MAX_CLIENT_CONN),
    );
  });

  test('the session-mode pool reproduces the incident’s cap of 15 clients', () => {
    const session = services['pgbouncer-session']?.environment ?? {};
    expect(session.POOL_MODE).toBe('session');
    expect(session.MAX_CLIENT_CONN).toBe('15');
  });
});
