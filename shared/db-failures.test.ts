import { describe, expect, test } from 'bun:test';
import { classifyDatabaseFailure, connectionDiedUnderStatement } from './db-failures.ts';

/** The shape Prisma 7 throws for an adapter error: P2039 with the adapter's error in meta (seen live). */
const prismaWrapped = (cause: Record<string, unknown>) =>
  Object.assign(new Error('Invalid `prisma.client.findMany()` invocation'), {
    code: 'P2039',
    meta: { modelName: 'Client', driverAdapterError: { name: 'DriverAdapterError', cause } },
  });

describe('classifyDatabaseFailure', () => {
  test('recognises pool exhaustion anywhere in the cause chain', () => {
    const wrapped = new Error('Invalid `prisma.client.findMany()` invocation', {
      cause: new Error('timeout exceeded when trying to connect'),
    });
    expect(classifyDatabaseFailure(wrapped)).toBe('pool-timeout');
    expect(classifyDatabaseFailure(Object.assign(new Error('x'), { code: 'P2024' }))).toBe('pool-timeout');
  });

  test('recognises Prisma’s interactive-transaction limits (P2028)', () => {
    const transaction = (message: string) => Object.assign(new Error(message), { code: 'P2028' });
    expect(
      classifyDatabaseFailure(transaction('Transaction API error: Unable to start a transaction in the given time.')),
    ).toBe('pool-timeout');
    expect(
      classifyDatabaseFailure(
        transaction('Transaction API error: Transaction already closed: the timeout for this transaction was 5000 ms'),
      ),
    ).toBe('unavailable');
  });

  test.each([
    'FATAL: MaxClientsInSessionMode: max clients reached - in Session mode max clients are limited to pool_size',
    'no more connections allowed (max_client_conn)',
    'sorry, too many clients already',
    'remaining connection slots are reserved for non-replication superuser connections',
    "Can't reach database server at `db:5432`",
    'Connection terminated unexpectedly',
    'Query read timeout',
    'server login has been failing, try again later (server_login_retry)',
    // pg, when a pooled client's connection failed just before a statement (seen during a restart).
    'Client has encountered a connection error and is not queryable',
  ])('recognises capacity and connection errors by their text: %s', (message) => {
    expect(classifyDatabaseFailure(new Error(message))).toBe('unavailable');
  });

  test.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['57P03', 'the database system is starting up'],
    ['08P01', 'SASL authentication failed'],
    ['08006', 'connection failure'],
    ['53300', 'too many connections for role'],
    ['57014', 'canceling statement due to statement timeout'],
  ])('recognises SQLSTATE %s inside Prisma’s wrapping', (code, message) => {
    expect(classifyDatabaseFailure(prismaWrapped({ kind: 'postgres', code, originalCode: code, message }))).toBe(
      'unavailable',
    );
  });

  test('recognises the adapter’s connection kinds', () => {
    expect(classifyDatabaseFailure(prismaWrapped({ kind: 'DatabaseNotReachable', host: 'db', port: 6543 }))).toBe(
      'unavailable',
    );
    expect(classifyDatabaseFailure(prismaWrapped({ kind: 'ConnectionClosed' }))).toBe('unavailable');
  });

  test('leaves other errors alone', () => {
    expect(classifyDatabaseFailure(new Error('Unique constraint failed'))).toBeUndefined();
    expect(
      classifyDatabaseFailure(prismaWrapped({ kind: 'UniqueConstraintViolation', code: '23505' })),
    ).toBeUndefined();
    expect(classifyDatabaseFailure(prismaWrapped({ kind: 'postgres', code: '42P01' }))).toBeUndefined();
  });
});

describe('connectionDiedUnderStatement', () => {
  test('a connection lost while a statement ran', () => {
    expect(connectionDiedUnderStatement(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      connectionDiedUnderStatement(new Error('Client has encountered a connection error and is not queryable')),
    ).toBe(true);
    expect(connectionDiedUnderStatement(prismaWrapped({ kind: 'postgres', code: '57P01' }))).toBe(true);
    expect(connectionDiedUnderStatement({ name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } })).toBe(
      true,
    );
  });

  test('not a connection that could not be had, a timeout, or a statement error', () => {
    expect(connectionDiedUnderStatement(prismaWrapped({ kind: 'DatabaseNotReachable' }))).toBe(false);
    expect(connectionDiedUnderStatement(new Error('Query read timeout'))).toBe(false);
    expect(connectionDiedUnderStatement(new Error('timeout exceeded when trying to connect'))).toBe(false);
    expect(connectionDiedUnderStatement(prismaWrapped({ kind: 'postgres', code: '08P01' }))).toBe(false);
    expect(connectionDiedUnderStatement(prismaWrapped({ kind: 'postgres', code: '57014' }))).toBe(false);
    expect(connectionDiedUnderStatement(prismaWrapped({ kind: 'UniqueConstraintViolation', code: '23505' }))).toBe(
      false,
    );
  });
});
