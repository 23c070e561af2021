import { describe, expect, test } from 'bun:test';
import { toCatalogueError } from './error-handler.ts';
import { AuthEmailTaken, UpstreamTimeout } from './errors.ts';

describe('toCatalogueError', () => {
  test('unknown failures become a generic 500 that reveals nothing', () => {
    const rendered = toCatalogueError(new TypeError("Cannot read properties of undefined (reading 'passwordHash')"));
    expect(rendered.statusCode).toBe(500);
    expect(rendered.code).toBe('INTERNAL_ERROR');
    expect(rendered.message).not.toContain('passwordHash');
  });

  test('a 5xx of the catalogue is answered as it is; a 5xx with a code of its own is not', () => {
    expect(toCatalogueError(new UpstreamTimeout('docs')).code).toBe('UPSTREAM_TIMEOUT');
    const foreign = Object.assign(new Error('plugin internals'), { code: 'PLUGIN_BROKE', statusCode: 502 });
    const rendered = toCatalogueError(foreign);
    expect(rendered.code).toBe('INTERNAL_ERROR');
    expect(rendered.message).not.toContain('internals');
  });

  test('database capacity failures become retryable 503s', () => {
    expect(toCatalogueError(new Error('timeout exceeded when trying to connect')).code).toBe('DB_POOL_TIMEOUT');
    expect(toCatalogueError(new Error('sorry, too many clients already')).code).toBe('DB_UNAVAILABLE');
    // What Prisma throws when PostgreSQL restarts under a query (seen against the real stack).
    const restarted = Object.assign(new Error('Invalid `prisma.client.findMany()` invocation'), {
      code: 'P2039',
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'postgres', code: '57P01' } } },
    });
    expect(toCatalogueError(restarted).code).toBe('DB_UNAVAILABLE');
  });

  test('catalogue errors pass through as they are', () => {
    const taken = new AuthEmailTaken();
    expect(toCatalogueError(taken)).toBe(taken);
  });

  test('a plugin’s 4xx without a code keeps its status and gets a stable code', () => {
    const error = Object.assign(new Error('nope'), { statusCode: 405 });
    expect(toCatalogueError(error)).toMatchObject({ statusCode: 405, code: 'METHOD_NOT_ALLOWED' });
  });
});
