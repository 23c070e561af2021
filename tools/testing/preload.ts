// Preloaded by bunfig.toml: tears down the real stack after the whole run, if a test started it.
// Nothing starts here: integration test files ask for the stack themselves (test-stack.ts).
import { afterAll } from 'bun:test';
import { teardownTestStack } from './test-stack.ts';

afterAll(async () => {
  await teardownTestStack();
}, 60_000);
