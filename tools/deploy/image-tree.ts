// The runtime image's file tree, assembled without a container engine by replaying the Dockerfile:
// each stage's build-context COPYs (filtered by .dockerignore) and RUN commands happen in a folder
// of its own (WORKDIR /app maps to that folder), and the runtime stage takes `COPY --from` results
// from those folders. What runs there is what the image's entrypoint would run, minus the base
// image's operating system: the Bun on this machine stands in for oven/bun's (the same version).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { args, copyFrom, jsonArgs, keyword, type Stage, stageNamed, stagesOf } from './dockerfile-stages.ts';
import { isIgnored, parseDockerignore } from './dockerignore.ts';

const WORKDIR = '/app';

export interface ImageTree {
  /** The runtime stage's /app. */
  dir: string;
  /** The runtime stage's ENV. */
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
}

const ignorePatterns = () => parseDockerignore(readFileSync(join(REPOSITORY_ROOT, '.dockerignore'), 'utf8'));

/** Copies a build-context path into `target`, leaving out what .dockerignore excludes. */
function copyFromContext(source: string, target: string, patterns: string[]): void {
  const from = join(REPOSITORY_ROOT, source);
  if (isIgnored(source, patterns) || !existsSync(from)) return;
  if (statSync(from).isDirectory()) {
    mkdirSync(target, { recursive: true });
    for (const entry of readdirSync(from)) copyFromContext(`${source}/${entry}`, join(target, entry), patterns);
  } else {
    cpSync(from, target);
  }
}

const inStage = (path: string, stageDir: string) =>
  path.startsWith(WORKDIR) ? join(stageDir, relative(WORKDIR, path)) : join(stageDir, path);

function replayStage(stage: Stage, stages: Stage[], root: string, built: Map<string, string>): string {
  const stageDir = join(root, stage.name ?? 'stage');
  mkdirSync(stageDir, { recursive: true });
  const patterns = ignorePatterns();
  for (const instruction of stage.instructions) {
    const name = instruction.getKeyword();
    if (name === 'WORKDIR' && args(instruction)[0] !== WORKDIR) throw new Error(`WORKDIR must be ${WORKDIR}`);
    if (name === 'COPY') {
      const parts = args(instruction).filter((arg) => !arg.startsWith('--'));
      const destination = parts.at(-1) as string;
      const sources = parts.slice(0, -1);
      const fromStage = copyFrom(instruction);
      for (const source of sources) {
        const target = destination.endsWith('/')
          ? join(inStage(destination, stageDir), source.split('/').at(-1) as string)
          : inStage(destination, stageDir);
        if (fromStage) {
          const sourceStage = stageNamed(stages, fromStage);
          if (!sourceStage) throw new Error(`COPY --from=${fromStage}: no such stage`);
          const sourceDir = built.get(fromStage) ?? replayStage(sourceStage, stages, root, built);
          built.set(fromStage, sourceDir);
          cpSync(inStage(source, sourceDir), target, { recursive: true });
        } else {
          copyFromContext(source, target, patterns);
        }
      }
    }
    if (name === 'RUN') {
      const command = (instruction.getArgumentsContent() ?? '').replaceAll(WORKDIR, stageDir);
      const result = Bun.spawnSync(['sh', '-c', command], {
        cwd: stageDir,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
      });
      if (result.exitCode !== 0) {
        throw new Error(`RUN ${command} failed in stage ${stage.name}:\n${result.stderr.toString()}`);
      }
    }
  }
  return stageDir;
}

export function assembleImageTree(): ImageTree {
  const stages = stagesOf();
  const runtime = stages.at(-1) as Stage;
  const root = mkdtempSync(join(tmpdir(), 'poolwise-image-'));
  const dir = replayStage(runtime, stages, root, new Map());
  const env: Record<string, string> = {};
  for (const instruction of keyword(runtime, 'ENV')) {
    const [key, value] = (instruction.getArgumentsContent() ?? '').split('=');
    if (key && value !== undefined) env[key] = value;
  }
  return {
    dir,
    env,
    entrypoint: jsonArgs(keyword(runtime, 'ENTRYPOINT')[0] as never),
    cmd: jsonArgs(keyword(runtime, 'CMD')[0] as never),
  };
}
