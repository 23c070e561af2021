// No container engine runs on these machines, so the Dockerfile is checked by reading it: parsed and
// linted by dockerfile-ast / dockerfile-utils (the parser of the VS Code Docker extension), then held
// against what the services really import and what .dockerignore lets into the build context.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { SERVICES } from '../../shared/services.ts';
import {
  args,
  contextCopies,
  copyFrom,
  jsonArgs,
  keyword,
  dockerfileText as readDockerfile,
  type Stage,
  stagesOf,
} from './dockerfile-stages.ts';
import { isIgnored, parseDockerignore } from './dockerignore.ts';
import { runtimeImportGraph } from './import-graph.ts';

const read = (file: string) => readFileSync(join(REPOSITORY_ROOT, file), 'utf8');
const dockerfileText = readDockerfile();
const ignorePatterns = parseDockerignore(read('.dockerignore'));
const manifest = JSON.parse(read('package.json'));
const bunVersion = manifest.packageManager.split('@')[1];

const MIGRATIONS_ENTRY = 'tools/migrations/migrate-cli.ts';
const SERVICE_ENTRIES = Object.values(SERVICES).map((service) => `${service.dir}/server.ts`);

const stages = stagesOf(DockerfileParser.parse(dockerfileText));
const runtime = stages.at(-1) as Stage;

describe('Dockerfile', () => {
  test('parses and lints clean with a real Dockerfile parser', () => {
    expect(validate(dockerfileText)).toEqual([]);
    // The linter really lints: a broken file is reported.
    expect(validate('FROM oven/bun:1.4.5\nCOPY\n').length).toBeGreaterThan(0);
  });

  test('every stage is the official Bun image pinned to package.json’s Bun version', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toBe(`oven/bun:${bunVersion}`);
  });

  test('the runtime stage takes production dependencies only, from a stage that installed nothing else', () => {
    const copies = keyword(runtime, 'COPY').filter((instruction) => copyFrom(instruction));
    const nodeModules = copies.filter((instruction) => args(instruction).some((arg) => arg.endsWith('node_modules')));
    expect(nodeModules).toHaveLength(1);
    const source = stages.find((stage) => stage.name === copyFrom(nodeModules[0] as Instruction)) as Stage;
    const installs = keyword(source, 'RUN').map((instruction) => instruction.getArgumentsContent() ?? '');
    expect(installs).toEqual([expect.stringMatching(/bun install --frozen-lockfile --production/)]);
    expect(contextCopies(runtime)).not.toContain('node_modules');
  });

  test('the generated Prisma client comes from a stage whose install ran the postinstall generator', () => {
    expect(manifest.scripts.postinstall).toBe('bun run db:generate');
    expect(read('prisma/schema.prisma')).toContain('output       = "../shared/generated/prisma"');
    const generated = keyword(runtime, 'COPY').find((instruction) => args(instruction).at(-1) === './shared/generated');
    expect(generated).toBeDefined();
    const source = stages.find((stage) => stage.name === copyFrom(generated as Instruction)) as Stage;
    const installs = keyword(source, 'RUN').map((instruction) => instruction.getArgumentsContent() ?? '');
    // A full install (the prisma CLI is a development dependency) with scripts allowed.
    expect(installs.some((line) => line.startsWith('bun install') && !/--ignore-scripts|--production/.test(line))).toBe(
      true,
    );
    // Everything the generator reads is in that stage's context.
    for (const needed of ['prisma', 'prisma.config.ts', 'shared', 'tools/migrations', 'package.json', 'bun.lock']) {
      expect(contextCopies(source)).toContain(needed);
    }
  });

  test('runs as a non-root user, by number (what Kubernetes’ runAsNonRoot can verify)', () => {
    const users = keyword(runtime, 'USER').map((instruction) => args(instruction)[0] ?? '');
    expect(users).toHaveLength(1);
    const [uid, gid] = (users[0] as string).split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
  });

  test('one image for every service: the entrypoint is Bun without .env loading, the command picks the service', () => {
    expect(keyword(runtime, 'ENTRYPOINT').map(jsonArgs)).toEqual([['bun', '--no-env-file']]);
    expect(keyword(runtime, 'CMD').map(jsonArgs)).toEqual([['gateway/server.ts']]);
  });

  test('every file the services and the migrations Job import reaches the image; tests do not', () => {
    const { files } = runtimeImportGraph([...SERVICE_ENTRIES, MIGRATIONS_ENTRY]);
    expect(files.size).toBeGreaterThan(20); // the walk really followed the imports
    const copied = contextCopies(runtime);
    const missing = [...files]
      .filter((file) => !file.startsWith('shared/generated/')) // copied from the generator stage
      .filter(
        (file) =>
          !copied.some((source) => file === source || file.startsWith(`${source}/`)) || isIgnored(file, ignorePatterns),
      );
    expect(missing).toEqual([]);
    expect(isIgnored('workers/client/client-repository.test.ts', ignorePatterns)).toBe(true);
    expect(isIgnored('tools/doctor/doctor-cli.ts', ignorePatterns)).toBe(true);
  });

  test('what the migrations Job imports is a production dependency too', () => {
    const { packages } = runtimeImportGraph([MIGRATIONS_ENTRY]);
    const runtimeDependencies = new Set(Object.keys(manifest.dependencies));
    expect([...packages.keys()].filter((name) => !runtimeDependencies.has(name))).toEqual([]);
  });

  test('no .env reaches the build context, so none can be copied into the image', () => {
    const envFiles = ['.env', '.env.production', 'gateway/.env', 'workers/auth/.env', 'workers/client/.env.local'];
    for (const file of envFiles) expect(isIgnored(file, ignorePatterns), file).toBe(true);
    const named = stages.flatMap(contextCopies).filter((source) => /(^|\/)\.env/.test(source));
    expect(named).toEqual([]);
    // Nor does development state or the repository's history.
    for (const path of ['.data/dev-keys/private.pem', '.git/config', 'node_modules/pg/package.json']) {
      expect(isIgnored(path, ignorePatterns), path).toBe(true);
    }
  });
});
