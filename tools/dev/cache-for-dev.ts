// `bun run dev` runs Redis the way production does when the machine allows it: the gateway's edge
// cache and cross-process invalidation (several replicas) only exist with Redis. With a configured
// REDIS_URL that one is used; without redis-server installed the runner says so loudly and the
// services fall back to their in-process cache.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServiceConfig } from '../../shared/config-schema.ts';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { findBinary } from '../stack/processes.ts';
import { startRedis } from '../stack/redis.ts';

export interface DevCache {
  /** Set for the services' environment when the runner starts Redis itself. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const nothingToStop = async () => {};

/** A runner killed without its Ctrl-C cleanup leaves its redis-server running; the next start ends it. */
function stopStaleRedis(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')) process.kill(pid, 'SIGTERM');
  } catch {
    // already gone, or no /proc here: nothing to stop
  }
  rmSync(pidFile, { force: true });
}

export async function prepareDevCache(
  config: Pick<ServiceConfig, 'REDIS_URL' | 'CACHE_ENABLED' | 'DEV_DATA_DIR'>,
  say: (line: string) => void,
): Promise<DevCache> {
  if (config.REDIS_URL) {
    say('Using the configured REDIS_URL as the cache.');
    return { env: {}, stop: nothingToStop };
  }
  if (!config.CACHE_ENABLED) return { env: {}, stop: nothingToStop };
  if (!findBinary('redis-server')) {
    say(
      '\x1b[1;33mNOTICE: redis-server is not installed, so there is no edge cache at the gateway and each ' +
        'process caches on its own (several replicas run without a cache). Install it (apt-get install ' +
        'redis-server / brew install redis) to cache as in production.\x1b[0m',
    );
    return { env: {}, stop: nothingToStop };
  }
  const pidFile = join(config.DEV_DATA_DIR ?? join(REPOSITORY_ROOT, '.data'), 'dev-redis.pid');
  stopStaleRedis(pidFile);
  mkdirSync(dirname(pidFile), { recursive: true });
  const redis = await startRedis();
  writeFileSync(pidFile, String(redis.pid));
  say(`Redis (a cache only: bounded, no persistence) listens on 127.0.0.1:${redis.port}.`);
  return {
    env: { REDIS_URL: redis.url },
    async stop() {
      await redis.stop();
      rmSync(pidFile, { force: true });
    },
  };
}
