// The peers' versions, printed in the bench's rows: a ratio against "nginx" means little without them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../../shared/env.ts';
import { findBinary } from '../../stack/processes.ts';

function firstMatch(argv: string[], pattern: RegExp): string {
  try {
    const run = Bun.spawnSync(argv, { stdout: 'pipe', stderr: 'pipe' });
    return pattern.exec(`${run.stdout.toString()}${run.stderr.toString()}`)?.[1] ?? '?';
  } catch {
    return 'missing';
  }
}

export function versionsOfPeers() {
  const manifest = join(REPOSITORY_ROOT, 'node_modules/@fastify/http-proxy/package.json');
  return {
    nginx: firstMatch([findBinary('nginx') ?? 'nginx', '-v'], /nginx\/(\S+)/),
    node: firstMatch(['node', '--version'], /v(\S+)/),
    fastifyHttpProxy: (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version,
  };
}
