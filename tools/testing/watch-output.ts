// Collects everything a child process prints, so a test can wait for a line to appear (and see the
// whole output when it does not).
import type { ChildProcess } from 'node:child_process';

export interface WatchedOutput {
  /** Resolves once `pattern` has appeared; throws with the output if the process exits or time runs out. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  text(): string;
}

export function watchOutput(child: ChildProcess): WatchedOutput {
  let text = '';
  let exitCode: number | null | undefined;
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.once('exit', (code) => {
    exitCode = code;
  });
  return {
    text: () => text,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (exitCode !== undefined) throw new Error(`process exited (${exitCode}):\n${text}`);
        if (Date.now() > deadline) throw new Error(`nothing matched ${pattern} in:\n${text}`);
        await Bun.sleep(50);
      }
    },
  };
}
