// When `bun run dev` and `bun test` install or generate by themselves, decided without running anything.
import { describe, expect, test } from 'bun:test';
import { generateFingerprint, type InstallInputs, installFingerprint, setupSteps } from './install-state.ts';

const inputs: InstallInputs = { packageJson: '{"name":"p"}', lockfile: 'lock v1', prismaSchema: 'model A {}' };
const upToDate = { installed: installFingerprint(inputs), generated: generateFingerprint(inputs) };
const everythingPresent = { nodeModules: true, generatedClient: true };

describe('setupSteps', () => {
  test('nothing to do when nothing changed since the last set-up', () => {
    expect(setupSteps(inputs, upToDate, everythingPresent).steps).toEqual([]);
  });

  test('a fresh clone installs (which generates the client too)', () => {
    expect(setupSteps(inputs, {}, { nodeModules: false, generatedClient: false })).toEqual({
      steps: ['install'],
      reason: 'no node_modules (a fresh clone)',
    });
  });

  test('a changed manifest or lockfile installs again; an install by hand without a stamp does too', () => {
    for (const changed of [
      { ...inputs, packageJson: '{"name":"p","dependencies":{"x":"1"}}' },
      { ...inputs, lockfile: 'lock v2' },
    ]) {
      expect(setupSteps(changed, upToDate, everythingPresent).steps).toEqual(['install']);
    }
    expect(setupSteps(inputs, { generated: upToDate.generated }, everythingPresent).steps).toEqual(['install']);
  });

  test('a changed schema, or a deleted client, only generates', () => {
    const changedSchema = { ...inputs, prismaSchema: 'model A { id Int @id }' };
    expect(
      setupSteps(
        changedSchema,
        { installed: installFingerprint(changedSchema), generated: upToDate.generated },
        everythingPresent,
      ).steps,
    ).toEqual(['generate']);
    expect(setupSteps(inputs, upToDate, { nodeModules: true, generatedClient: false }).steps).toEqual(['generate']);
  });
});

test('when everything is set up, the preload costs a few file reads and says nothing', () => {
  const started = performance.now();
  const result = Bun.spawnSync(['bun', '--no-env-file', '-e', "await import('./tools/bootstrap/test-preload.ts')"], {
    cwd: `${import.meta.dir}/../..`,
  });
  expect(result.exitCode).toBe(0);
  expect(result.stderr.toString()).toBe('');
  expect(performance.now() - started).toBeLessThan(2_000);
});
