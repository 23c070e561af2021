// `prisma generate`, offline. The CLI insists on downloading its native schema engine before any
// command, though generate never runs it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
// (here: the Bun binary) skips that download. Migrations use the WebAssembly engine instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REPOSITORY_ROOT } from '../../shared/env.ts';

const engine = process.env.PRISMA_SCHEMA_ENGINE_BINARY;
const result = spawnSync('bun', ['x', 'prisma', 'generate'], {
  cwd: REPOSITORY_ROOT,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: engine && existsSync(engine) ? engine : process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);
