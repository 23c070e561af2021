// The first preload of `bun test` (bunfig.toml): a fresh clone needs nothing but `bun test`. When
// set-up had to run, the same command runs again in a fresh process (rerun.ts says why). Linux tells
// us this process's command line; elsewhere we ask for the command to be run again.
import { existsSync, readFileSync } from 'node:fs';
import { ensureDependencies } from './ensure-dependencies.ts';
import { isRerun, rerunInFreshProcess } from './rerun.ts';

if (ensureDependencies()) {
  const commandLine = existsSync('/proc/self/cmdline')
    ? readFileSync('/proc/self/cmdline', 'utf8')
        .split('\0')
        .filter((arg) => arg !== '')
    : [];
  if (commandLine.length === 0 || isRerun()) {
    console.error('setup: dependencies are ready now; run the same command again.');
    process.exit(1);
  }
  await rerunInFreshProcess(commandLine);
}
