// The document the running gateway serves, linted as a consumer would: `redocly lint` with its
// recommended rules and the exceptions in redocly.yaml (each with its reason) finds no error and no
// warning. The document is fetched by Redocly itself from the gateway's /openapi.json, never a copy.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../shared/env.ts';
import { type RunningSystem, startSystem } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem();
}, 60_000);
afterAll(() => system?.close());

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer?: string }[];
}

/** Runs Redocly's CLI on `source` and returns what it found. */
async function redoclyLint(source: string): Promise<Problem[]> {
  const run = Bun.spawn(
    [join(REPOSITORY_ROOT, 'node_modules/.bin/redocly'), 'lint', '--config', 'redocly.yaml', '--format=json', source],
    {
      cwd: REPOSITORY_ROOT,
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  const [output, errors] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text()]);
  await run.exited;
  const start = output.indexOf('{');
  if (start < 0) throw new Error(`redocly printed no report:\n${output}\n${errors}`);
  return (JSON.parse(output.slice(start)) as { problems: Problem[] }).problems;
}

type Operation = {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: unknown;
  responses: Record<string, { $ref?: string }>;
};

describe('the served OpenAPI document', () => {
  test('every operation documents every answer the gateway or its worker can give', async () => {
    const document = (await (await fetch(`${system.gatewayUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
      components: { responses: Record<string, { headers?: Record<string, { required?: boolean }> }> };
    };
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, ...operation })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(15);
    const operationIds = operations.map((operation) => operation.operationId);
    expect(new Set(operationIds).size).toBe(operations.length);
    const refOf = (operation: Operation, status: string) => operation.responses[status]?.$ref?.split('/').pop();
    for (const operation of operations) {
      expect(operation.tags?.length, operation.name).toBe(1);
      expect(operation.security, operation.name).toBeArray(); // public ones say so: security: []
      expect(refOf(operation, '429'), operation.name).toBe('TooManyRequests');
      expect(refOf(operation, '502'), operation.name).toBe('BadGateway');
      expect(refOf(operation, '503'), operation.name).toBe('Unavailable');
      expect(refOf(operation, '504'), operation.name).toBe('GatewayTimeout');
      if (operation.requestBody) {
        expect(refOf(operation, '413'), operation.name).toBe('PayloadTooLarge');
        expect(refOf(operation, '415'), operation.name).toBe('UnsupportedMediaType');
      }
    }
    expect(document.components.responses.TooManyRequests?.headers?.['Retry-After']?.required).toBe(true);
    expect(document.components.responses.Unavailable?.headers?.['Retry-After']?.required).toBe(true);
    expect(JSON.stringify(document.components.responses.Unavailable)).toContain('DB_POOL_TIMEOUT');
    const publicOperations = operations.filter((operation) => operation.security?.length === 0).map(({ name }) => name);
    expect(publicOperations.sort()).toEqual([
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/auth/register',
    ]);
  });

  test('passes redocly lint (recommended rules): no errors, no warnings', async () => {
    const problems = await redoclyLint(`${system.gatewayUrl}/openapi.json`);
    const shown = problems.map(
      (problem) => `${problem.severity} ${problem.ruleId} ${problem.location[0]?.pointer ?? ''}: ${problem.message}`,
    );
    expect(shown).toEqual([]);
  }, 60_000);

  test('the lint can fail: a document without servers or operationIds is refused', async () => {
    const document = (await (await fetch(`${system.gatewayUrl}/openapi.json`)).json()) as Record<string, unknown>;
    delete document.servers;
    for (const item of Object.values(document.paths as Record<string, Record<string, { operationId?: string }>>)) {
      for (const operation of Object.values(item)) delete operation.operationId;
    }
    const path = join(REPOSITORY_ROOT, '.data', `openapi-broken-${process.pid}.json`);
    await Bun.write(path, JSON.stringify(document));
    const rules = new Set((await redoclyLint(path).finally(() => rmSync(path))).map((problem) => problem.ruleId));
    expect(rules).toContain('no-empty-servers');
    expect(rules).toContain('operation-operationId');
  }, 60_000);
});
