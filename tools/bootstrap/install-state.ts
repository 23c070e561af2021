// Whether a checkout needs `bun install` or `prisma generate` before anything runs, decided from
// fingerprints of the files those steps read. Pure (the caller reads the files), and built on node's
// own modules only: it runs before the dependencies exist.
import { createHash } from 'node:crypto';

/** What the two set-up steps read: install reads the manifest and lockfile; generate reads the schema. */
export interface InstallInputs {
  packageJson: string;
  lockfile: string;
  prismaSchema: string;
}

/** What the last successful set-up recorded, if anything (a fresh clone has neither). */
export interface InstallStamps {
  installed?: string;
  generated?: string;
}

export type SetupStep = 'install' | 'generate';

export const fingerprint = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex');

export const installFingerprint = (inputs: InstallInputs) => fingerprint(inputs.packageJson, inputs.lockfile);
// The generator's own version lives in the lockfile, so a new Prisma regenerates too.
export const generateFingerprint = (inputs: InstallInputs) => fingerprint(inputs.prismaSchema, inputs.lockfile);

/**
 * The steps to run, in order. `bun install` runs the postinstall generator itself, so after an
 * install only a generate that failed would be left; a changed schema alone needs generate alone.
 */
export function setupSteps(
  inputs: InstallInputs,
  stamps: InstallStamps,
  present: { nodeModules: boolean; generatedClient: boolean },
): { steps: SetupStep[]; reason?: string } {
  if (!present.nodeModules) return { steps: ['install'], reason: 'no node_modules (a fresh clone)' };
  if (stamps.installed !== installFingerprint(inputs)) {
    return { steps: ['install'], reason: 'package.json or bun.lock changed since the last install' };
  }
  if (!present.generatedClient) return { steps: ['generate'], reason: 'the Prisma client is not generated' };
  if (stamps.generated !== generateFingerprint(inputs)) {
    return { steps: ['generate'], reason: 'prisma/schema.prisma changed since the client was generated' };
  }
  return { steps: [] };
}
