import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRuntimeDatabaseConfig } from './db.ts';
import { ConfigError, loadServiceConfig, validateConfig } from './env.ts';
import { resolveJwtKeys } from './jwt-keys.ts';

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

function repositoryWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'poolwise-env-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const ROOT_URL = 'postgresql://app:rootpass@aws-0-eu.pooler.supabase.com:6543/postgres';
const LOCAL_URL = 'postgresql://app:localpass@aws-0-eu.pooler.supabase.com:5432/postgres';

describe('loadServiceConfig', () => {
  test('root .env, then the service .env, then the process environment', () => {
    const rootDir = repositoryWith({
      '.env': `DATABASE_URL=${ROOT_URL}\nDB_POOL_SIZE=2\nLOG_LEVEL=warn\n`,
      'workers/auth/.env': 'DB_POOL_SIZE=4\n',
    });
    const loaded = loadServiceConfig('auth', { rootDir, processEnv: { LOG_LEVEL: 'debug' } });
    expect(loaded.config.DATABASE_URL).toBe(ROOT_URL);
    expect(loaded.config.DB_POOL_SIZE).toBe(4);
    expect(loaded.config.LOG_LEVEL).toBe('debug');
    expect(loaded.sources).toMatchObject({
      DATABASE_URL: '.env',
      DB_POOL_SIZE: 'workers/auth/.env',
      LOG_LEVEL: 'process environment',
    });
  });

  test('the same files give the same result whatever the current directory', () => {
    const rootDir = repositoryWith({ '.env': `DATABASE_URL=${ROOT_URL}\n`, 'workers/client/.env': 'DB_POOL_SIZE=3\n' });
    const before = process.cwd();
    try {
      process.chdir(join(rootDir, 'workers/client'));
      const fromService = loadServiceConfig('client', { rootDir, processEnv: {} });
      process.chdir(tmpdir());
      const fromElsewhere = loadServiceConfig('client', { rootDir, processEnv: {} });
      expect(fromService.config).toEqual(fromElsewhere.config);
    } finally {
      process.chdir(before);
    }
  });

  test('the local override trap: one warning naming key, winning file and losing file, secrets masked', () => {
    const rootDir = repositoryWith({
      '.env': `DATABASE_URL=${ROOT_URL}\n`,
      'workers/client/.env': `DATABASE_URL=${LOCAL_URL}\n`,
    });
    const loaded = loadServiceConfig('client', { rootDir, processEnv: {} });
    expect(loaded.config.DATABASE_URL).toBe(LOCAL_URL);
    expect(loaded.overrideWarnings).toHaveLength(1);
    const [warning] = loaded.overrideWarnings;
    expect(warning).toContain('DATABASE_URL from workers/client/.env overrides .env');
    expect(warning).not.toContain('rootpass');
    expect(warning).not.toContain('localpass');
  });

  test('the process environment overriding a file is reported too', () => {
    const rootDir = repositoryWith({ '.env': `DATABASE_URL=${ROOT_URL}\n` });
    const loaded = loadServiceConfig('user', { rootDir, processEnv: { DATABASE_URL: LOCAL_URL } });
    expect(loaded.overrideWarnings[0]).toContain('DATABASE_URL from process environment overrides .env');
  });
});

describe('validateConfig', () => {
  const base = { DATABASE_URL: ROOT_URL };
  const problemsOf = (values: Record<string, string>) => {
    try {
      validateConfig('client', values, { DB_POOL_SIZE: 'workers/client/.env' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  test.each([
    [{ DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE must be >= 1 (got "0" from workers/client/.env)'],
    [{ DB_POOL_SIZE: '500' }, 'DB_POOL_SIZE must be <= 100 (got "500" from workers/client/.env)'],
    [{ DB_POOL_SIZE: 'two' }, 'DB_POOL_SIZE must be integer (got "two" from workers/client/.env)'],
    [{ DB_POOL_TIMEOUT: 'soon' }, 'DB_POOL_TIMEOUT must be number'],
    [{ DB_POOL_MODE: 'statement' }, 'DB_POOL_MODE must be equal to one of the allowed values'],
  ])('%o is refused, naming the key and the value', (bad, expected) => {
    const problems = problemsOf({ ...base, ...bad });
    expect(problems.join('\n')).toContain(expected);
  });

  test('a bad URL is refused without printing it (it may hold a password)', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://user:pw@h/db' });
    expect(problems[0]).toStartWith('DATABASE_URL must match format "postgres-url"');
    expect(problems[0]).not.toContain('pw@');
  });

  test('CORS_ORIGINS takes origins exactly as browsers send them, nothing more', () => {
    expect(
      validateConfig('gateway', { CORS_ORIGINS: 'https://app.example.com, http://127.0.0.1:4321' }).CORS_ORIGINS,
    ).toBe('https://app.example.com, http://127.0.0.1:4321');
    for (const bad of ['https://app.example.com/', 'https://app.example.com/path', '*', 'app.example.com']) {
      expect(() => validateConfig('gateway', { CORS_ORIGINS: bad })).toThrow('CORS_ORIGINS must match format');
    }
  });

  test('workers cannot start without DATABASE_URL; the gateway can', () => {
    expect(problemsOf({})).toEqual(['DATABASE_URL is required (not set)']);
    expect(validateConfig('gateway', {}).GATEWAY_PORT).toBe(3000);
  });

  test('values are typed and defaulted', () => {
    const config = validateConfig('client', { ...base, DB_POOL_SIZE: '3', DB_POOL_TIMEOUT: '2.5' });
    expect(config.DB_POOL_SIZE).toBe(3);
    expect(config.DB_POOL_TIMEOUT).toBe(2.5);
    expect(config.ACCESS_TOKEN_TTL).toBe(900);
  });

  test('access tokens cannot be configured to live longer than 15 minutes', () => {
    expect(problemsOf({ ...base, ACCESS_TOKEN_TTL: '3600' })[0]).toContain('ACCESS_TOKEN_TTL must be <= 900');
  });

  test('production refuses the committed development secrets', () => {
    const problems = problemsOf({ ...base, NODE_ENV: 'production', SEED_ADMIN_PASSWORD: 'dev-only-admin-password' });
    expect(problems[0]).toContain('SEED_ADMIN_PASSWORD holds a development-only value');
    expect(() =>
      validateConfig('client', { ...base, NODE_ENV: 'development', SEED_ADMIN_PASSWORD: 'dev-only-admin-password' }),
    ).not.toThrow();
  });
});

// Development behaviour (generated keys, accepted `dev-only-` secrets, a warning instead of a refusal
// for a session-mode address) must be asked for: a deploy that forgets NODE_ENV gets production.
describe('an unset NODE_ENV means production', () => {
  const loadWithNothingSet = (processEnv: Record<string, string>) =>
    loadServiceConfig('auth', { rootDir: repositoryWith({}), processEnv });

  test('with no NODE_ENV and no .env, the config is production', () => {
    expect(loadWithNothingSet({ DATABASE_URL: ROOT_URL }).config.NODE_ENV).toBe('production');
  });

  test('a dev-only- secret is refused', () => {
    expect(() =>
      loadWithNothingSet({ DATABASE_URL: ROOT_URL, SEED_ADMIN_PASSWORD: 'dev-only-admin-password' }),
    ).toThrow('SEED_ADMIN_PASSWORD holds a development-only value');
  });

  test('JWT keys are required, never generated', () => {
    const rootDir = repositoryWith({});
    const { config } = loadServiceConfig('auth', { rootDir, processEnv: { DATABASE_URL: ROOT_URL } });
    expect(() => resolveJwtKeys(config, { needPrivateKey: true, rootDir })).toThrow(ConfigError);
    expect(existsSync(join(rootDir, '.data', 'dev-keys'))).toBe(false);
  });

  test('a session-mode DATABASE_URL is refused, not warned about', () => {
    const { config } = loadWithNothingSet({ DATABASE_URL: LOCAL_URL });
    expect(() => resolveRuntimeDatabaseConfig(config, { warn() {}, error() {} })).toThrow('SESSION-mode pooler');
  });

  test('development is what .env (or the environment) says it is', () => {
    const rootDir = repositoryWith({ '.env': 'NODE_ENV=development\n' });
    const loaded = loadServiceConfig('auth', { rootDir, processEnv: { DATABASE_URL: ROOT_URL } });
    expect(loaded.config.NODE_ENV).toBe('development');
  });
});
