// `bun run dev:roll`: asks the running `bun run dev` to replace every worker replica one at a time
// (it listens for SIGUSR2), so traffic through the gateway never sees a failed request.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceConfig } from '../../shared/config-schema.ts';
import { loadToolConfig, REPOSITORY_ROOT } from '../../shared/env.ts';

export const devRunnerPidFile = (config: ServiceConfig) =>
  join(config.DEV_DATA_DIR ?? join(REPOSITORY_ROOT, '.data'), 'dev-runner.pid');

if (import.meta.main) {
  const pidFile = devRunnerPidFile(loadToolConfig().config);
  if (!existsSync(pidFile)) {
    console.error(`No running \`bun run dev\` found (${pidFile} does not exist).`);
    process.exit(1);
  }
  const pid = Number(readFileSync(pidFile, 'utf8'));
  process.kill(pid, 'SIGUSR2');
  console.log(`Asked the dev runner (pid ${pid}) to roll every worker replica; its log shows the progress.`);
}
