// An in-process cache is refused where it would serve stale reads: a worker configured for several
// replicas without Redis runs with its cache off (and says why), on the real stack.
import { beforeAll, describe, expect, test } from 'bun:test';
import { captureLogs, testConfig, testKeys } from '../../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';
import { buildApp as buildClientWorker } from '../../workers/client/app.ts';
import { validateConfig } from '../env.ts';
import { inProcessCacheRefusal } from './cache.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

describe('in-process cache and replicas', () => {
  test('the rule: refused only for several replicas of a service with no Redis', () => {
    const config = (values: Record<string, string>) =>
      validateConfig('client', { NODE_ENV: 'test', DATABASE_URL: 'postgresql://u@db:6543/app', ...values });
    expect(inProcessCacheRefusal(config({ CLIENT_REPLICAS: '2' }), 'client')).toContain('CLIENT_REPLICAS=2');
    expect(inProcessCacheRefusal(config({ CLIENT_REPLICAS: '1' }), 'client')).toBeUndefined();
    expect(
      inProcessCacheRefusal(config({ CLIENT_REPLICAS: '2', REDIS_URL: 'redis://r:6379' }), 'client'),
    ).toBeUndefined();
    expect(inProcessCacheRefusal(config({ CLIENT_REPLICAS: '2', CACHE_ENABLED: 'false' }), 'client')).toBeUndefined();
    // Another service's replicas do not matter.
    expect(inProcessCacheRefusal(config({ USER_REPLICAS: '3' }), 'client')).toBeUndefined();
  });

  test('a client worker told it runs as one of two, without Redis, caches nothing and logs why', async () => {
    const logs = captureLogs();
    const app = await buildClientWorker({
      config: testConfig('client', { REDIS_URL: undefined, CACHE_ENABLED: 'true', CLIENT_REPLICAS: '2' }),
      keys: { publicKey: testKeys.publicKey },
      loggerInstance: logs.logger,
    });
    try {
      expect(app.cache.kind).toBe('off');
      expect(logs.messages().some((line) => line.includes('cache off: CLIENT_REPLICAS=2 without REDIS_URL'))).toBe(
        true,
      );
    } finally {
      await app.close();
    }
    const single = await buildClientWorker({
      config: testConfig('client', { REDIS_URL: undefined, CACHE_ENABLED: 'true', CLIENT_REPLICAS: '1' }),
      keys: { publicKey: testKeys.publicKey },
    });
    try {
      expect(single.cache.kind).toBe('memory');
    } finally {
      await single.close();
    }
  });
});
