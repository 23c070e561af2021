// Preloaded by bunfig.toml: these hooks wrap the whole `bun test` run, across all files.
import { afterAll, beforeAll } from 'bun:test';
import { provisionTestStack, teardownTestStack } from './test-stack.ts';

beforeAll(async () => {
  await provisionTestStack();
}, 120_000);

afterAll(async () => {
  await teardownTestStack();
}, 60_000);
