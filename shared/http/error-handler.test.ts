import { describe, expect, test } from 'bun:test';
import { classifyDatabaseFailure, toCatalogueError } from './error-handler.ts';
import { AuthEmailTaken } from './errors.ts';

describe('classifyDatabaseFailure', () => {
  test('recognises pool exhaustion anywhere in the cause chain', () => {
    const wrapped = new Error('Invalid `prisma.client.findMany()` invocation', {
      cause: new Error('timeout exceeded when trying to connect'),
    });
    expect(classifyDatabaseFailure(wrapped)).toBe('pool-timeout');
    expect(classifyDatabaseFailure(Object.assign(new Error('x'), { code: 'P2024' }))).toBe('pool-timeout');
  });

  test.each([
    'FATAL: MaxClientsInSessionMode: max clients reached - in Session mode max clients are limited to pool_size',
    'no more connections allowed (max_client_conn)',
    'sorry, too many clients already',
    'remaining connection slots are reserved for non-replication superuser connections',
    "Can't reach database server at `db:5432`",
  ])('recognises the field’s capacity errors: %s', (message) => {
    expect(classifyDatabaseFailure(new Error(message))).toBe('unavailable');
  });

  test('leaves other errors alone', () => {
    expect(classifyDatabaseFailure(new Error('Unique constraint failed'))).toBeUndefined();
  });
});

describe('toCatalogueError', () => {
  test('unknown failures become a generic 500 that reveals nothing', () => {
    const rendered = toCatalogueError(new TypeError("Cannot read properties of undefined (reading 'passwordHash')"));
    expect(rendered.statusCode).toBe(500);
    expect(rendered.code).toBe('INTERNAL_ERROR');
    expect(rendered.message).not.toContain('passwordHash');
  });

  test('database capacity failures become retryable 503s', () => {
    expect(toCatalogueError(new Error('timeout exceeded when trying to connect')).code).toBe('DB_POOL_TIMEOUT');
    expect(toCatalogueError(new Error('sorry, too many clients already')).code).toBe('DB_UNAVAILABLE');
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
