// Configuration layers and where each value came from. Pure functions only: reading the files is
// env.ts's job, so the layering rules can be unit-tested without touching the disk.

/** One source of configuration values, e.g. `.env`, `workers/auth/.env` or the process environment. */
export interface EnvLayer {
  /** How the layer is named in logs and the doctor: a repository-relative file path or `process environment`. */
  name: string;
  values: Record<string, string>;
}

/** A key set by an earlier layer and replaced by a later one with a different value. */
export interface EnvOverride {
  key: string;
  /** The layer whose value is used. */
  winner: string;
  /** The layer whose value was silently ignored before this project existed. */
  loser: string;
  winnerValue: string;
  loserValue: string;
}

export interface MergedEnv {
  values: Record<string, string>;
  /** key → name of the layer its value came from. */
  sources: Record<string, string>;
  overrides: EnvOverride[];
}

/** The keys whose override caused the incident's "local override trap", warned about at start. */
export const OVERRIDE_WATCHED_KEYS = ['DATABASE_URL', 'DIRECT_URL', 'REDIS_URL'] as const;

/**
 * Merges layers in order: later layers win. Only `keys` are taken from each layer, so the process
 * environment's PATH, HOME ... never leak into the configuration.
 */
export function mergeEnvLayers(layers: EnvLayer[], keys: readonly string[]): MergedEnv {
  const wanted = new Set(keys);
  const values: Record<string, string> = {};
  const sources: Record<string, string> = {};
  const overrides: EnvOverride[] = [];
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      if (!wanted.has(key) || value === undefined) continue;
      const previous = values[key];
      const previousSource = sources[key];
      if (previous !== undefined && previousSource !== undefined && previous !== value) {
        overrides.push({
          key,
          winner: layer.name,
          loser: previousSource,
          winnerValue: value,
          loserValue: previous,
        });
      }
      values[key] = value;
      sources[key] = layer.name;
    }
  }
  return { values, sources, overrides };
}

/** Hides the password of a URL (and any `password=` parameter) so a value can be logged. */
export function maskSecretsInUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (url.password) url.password = '****';
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|secret|token/i.test(key)) url.searchParams.set(key, '****');
  }
  return url.toString();
}

/** The one-line warning for an override of a watched key, e.g. the incident's service `.env`. */
export function describeOverride(override: EnvOverride): string {
  return (
    `${override.key} from ${override.winner} overrides ${override.loser} ` +
    `(using ${maskSecretsInUrl(override.winnerValue)}, ignoring ${maskSecretsInUrl(override.loserValue)}). ` +
    `Remove ${override.key} from ${override.winner} if ${override.loser} should win.`
  );
}
