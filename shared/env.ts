// Loads a service's configuration in a fixed order that does not depend on the current directory:
//   1. the root `.env`, 2. the service's own `.env` (e.g. workers/auth/.env), 3. the process environment.
// Later layers win, every value remembers its source, and an override of a connection URL is
// reported instead of silently winning: the "local override trap" from the incident report.
//
// Bun would also load `.env` from the current directory by itself, a hidden fourth layer. bunfig.toml
// (`env = false`, at the root and in each service folder) and `bun --no-env-file` in the scripts
// switch that off; the layers below are the only ones.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import envSchema from 'env-schema';
import {
  configJsonSchemaFor,
  DEVELOPMENT_SECRET_MARKER,
  requiredKeys,
  SECRET_KEYS,
  type ServiceConfig,
} from './config-schema.ts';
import {
  describeOverride,
  type EnvLayer,
  type EnvOverride,
  mergeEnvLayers,
  OVERRIDE_WATCHED_KEYS,
} from './env-layers.ts';
import { SERVICES, type ServiceRegistry } from './services.ts';

/** The repository root, found from this file rather than from the current directory. */
export const REPOSITORY_ROOT = resolve(import.meta.dir, '..');

export const PROCESS_ENV_LAYER = 'process environment';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  service: string;
  config: ServiceConfig;
  sources: Record<string, string>;
  overrides: EnvOverride[];
  /** One line per override of a connection URL, ready to log as warnings. */
  overrideWarnings: string[];
}

export interface LoadConfigOptions {
  rootDir?: string;
  /** Defaults to `process.env`; tests pass their own. */
  processEnv?: Record<string, string | undefined>;
  /** Defaults to poolwise's services; tests pass a registry with a fictitious one. */
  registry?: ServiceRegistry;
}

function readEnvFile(rootDir: string, relativePath: string): EnvLayer | undefined {
  const path = join(rootDir, relativePath);
  if (!existsSync(path)) return undefined;
  return { name: relativePath, values: parseDotenv(readFileSync(path)) };
}

/** The layers of one service, in the order they apply. Files that do not exist are left out. */
export function readServiceEnvLayers(service: string, options: LoadConfigOptions = {}): EnvLayer[] {
  const rootDir = options.rootDir ?? REPOSITORY_ROOT;
  const registry: ServiceRegistry = options.registry ?? SERVICES;
  const processEnv = options.processEnv ?? process.env;
  const processValues = Object.fromEntries(
    Object.entries(processEnv).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return [
    readEnvFile(rootDir, '.env'),
    readEnvFile(rootDir, `${registry[service]?.dir ?? service}/.env`),
    { name: PROCESS_ENV_LAYER, values: processValues },
  ].filter((layer): layer is EnvLayer => layer !== undefined);
}

const isPostgresUrl = (value: string) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
};
const isUrlWithProtocols = (protocols: string[]) => (value: string) => {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
};
const isHttpUrl = isUrlWithProtocols(['http:', 'https:']);
/** An origin exactly as a browser sends it: scheme, host and port only, nothing after. */
const isOrigin = (value: string) => {
  try {
    return isHttpUrl(value) && new URL(value).origin === value;
  } catch {
    return false;
  }
};

// One Ajv instance and one schema object per service: Ajv caches what it compiled by schema object, so
// validating again costs microseconds instead of a fresh compile (~20 ms) every time.
type EnvSchemaAjvOption = NonNullable<NonNullable<Parameters<typeof envSchema>[0]>['ajv']>;
type EnvSchemaAjv = Parameters<Extract<EnvSchemaAjvOption, { customOptions: unknown }>['customOptions']>[0];
let configAjv: EnvSchemaAjv | undefined;
const schemas = new WeakMap<ServiceRegistry, Map<string, object>>();
function schemaFor(service: string, registry: ServiceRegistry): object {
  let byService = schemas.get(registry);
  if (!byService) {
    byService = new Map();
    schemas.set(registry, byService);
  }
  const known = byService.get(service);
  if (known) return known;
  const schema = { ...configJsonSchemaFor(registry), required: requiredKeys(service, registry) };
  byService.set(service, schema);
  return schema;
}

/** Validates and types merged values; throws a ConfigError naming every bad key and its source. */
export function validateConfig(
  service: string,
  values: Record<string, string>,
  sources: Record<string, string> = {},
  registry: ServiceRegistry = SERVICES,
): ServiceConfig {
  const describeSource = (key: string) =>
    values[key] === undefined ? 'not set' : `got ${JSON.stringify(values[key])} from ${sources[key] ?? 'input'}`;
  const problems: string[] = [];
  let config: ServiceConfig | undefined;
  try {
    config = envSchema({
      schema: schemaFor(service, registry),
      data: { ...values },
      env: false,
      dotenv: false,
      ajv: configAjv ?? {
        customOptions(ajv) {
          ajv.addFormat('postgres-url', isPostgresUrl);
          ajv.addFormat('redis-url', isUrlWithProtocols(['redis:', 'rediss:']));
          ajv.addFormat('http-url-list', (value: string) => value.split(',').every((url) => isHttpUrl(url.trim())));
          ajv.addFormat('origin-list', (value: string) => value.split(',').every((origin) => isOrigin(origin.trim())));
          ajv.addFormat('email-ish', (value: string) => /^[^\s@]+@[^\s@]+$/.test(value));
          configAjv = ajv;
          return ajv;
        },
      },
    }) as unknown as ServiceConfig;
  } catch (error) {
    const ajvErrors = (
      error as { errors?: { instancePath: string; message?: string; params: Record<string, unknown> }[] }
    ).errors;
    if (!ajvErrors) throw error;
    for (const ajvError of ajvErrors) {
      const key = (ajvError.params.missingProperty as string | undefined) ?? ajvError.instancePath.replace(/^\//, '');
      const what = ajvError.params.missingProperty ? 'is required' : (ajvError.message ?? 'is invalid');
      const shown =
        SECRET_KEYS.includes(key) && values[key] !== undefined ? 'a value that is hidden here' : describeSource(key);
      problems.push(`${key} ${what} (${shown})`);
    }
  }
  if (config && config.NODE_ENV === 'production') {
    for (const key of SECRET_KEYS) {
      if (values[key]?.includes(DEVELOPMENT_SECRET_MARKER)) {
        problems.push(
          `${key} holds a development-only value (from ${sources[key] ?? 'input'}); set a real secret in production`,
        );
      }
    }
  }
  if (problems.length > 0 || !config) {
    throw new ConfigError(`Invalid configuration for ${service}:\n  - ${problems.join('\n  - ')}`, problems);
  }
  return config;
}

/** Loads, merges, validates. The one entry point every `server.ts` and script uses. */
export function loadServiceConfig(service: string, options: LoadConfigOptions = {}): LoadedConfig {
  const registry: ServiceRegistry = options.registry ?? SERVICES;
  const keys = Object.keys(configJsonSchemaFor(registry).properties);
  const merged = mergeEnvLayers(readServiceEnvLayers(service, options), keys);
  const config = validateConfig(service, merged.values, merged.sources, registry);
  const watched = new Set<string>(OVERRIDE_WATCHED_KEYS);
  return {
    service,
    config,
    sources: merged.sources,
    overrides: merged.overrides,
    overrideWarnings: merged.overrides.filter((o) => watched.has(o.key)).map(describeOverride),
  };
}

/**
 * Configuration for the repository's own tools (dev runner, migrations, seed, doctor): the root
 * `.env` and the process environment, nothing service-specific and nothing required.
 */
export function loadToolConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const layers = readServiceEnvLayers('gateway', options).filter((layer) => layer.name !== 'gateway/.env');
  const merged = mergeEnvLayers(layers, Object.keys(configJsonSchemaFor(options.registry ?? SERVICES).properties));
  return {
    service: 'gateway',
    config: validateConfig('gateway', merged.values, merged.sources, options.registry),
    sources: merged.sources,
    overrides: merged.overrides,
    overrideWarnings: [],
  };
}
