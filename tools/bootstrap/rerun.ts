// After set-up ran inside a process, that process must not go on: Bun looked for node_modules when it
// started, found none, and from then on resolves packages from its global cache (auto-install)
// instead of the fresh node_modules. The same command in a new process sees the real install. Signals
// are passed on, so Ctrl-C or a supervisor's SIGTERM reaches the process that does the work.
export async function rerunInFreshProcess(command: string[]): Promise<never> {
  console.error(`setup: done; running \`${command.join(' ')}\` again in a fresh process.`);
  const child = Bun.spawn([process.execPath, ...command.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit'],
    env: { ...process.env, POOLWISE_SETUP_RERUN: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGUSR2'] as const) process.on(signal, () => child.kill(signal));
  process.exit(await child.exited);
}

/** Set in the new process, so set-up that keeps failing to stick can never loop. */
export const isRerun = () => process.env.POOLWISE_SETUP_RERUN === '1';
