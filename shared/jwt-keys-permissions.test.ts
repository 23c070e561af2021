// Review issue 11, finding 10: the development key pair in .data/dev-keys is trusted only if no other
// local user could have planted or swapped it. A world-writable .data (as `bun run dev` left it when
// run as root) let anyone replace dev-keys with a pair of their own and mint tokens.
import { afterEach, describe, expect, test } from 'bun:test';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './env.ts';
import { generateJwtKeyPair, resolveJwtKeys } from './jwt-keys.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempRoot = () => {
  const dir = mkdtempSync(join(tmpdir(), 'poolwise-keys-perm-'));
  dirs.push(dir);
  return dir;
};
const modeOf = (path: string) => statSync(path).mode & 0o777;
const development = { NODE_ENV: 'development' } as const;
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describe('development keys on disk', () => {
  test('are written private: key file 0600, its folder 0700, .data writable by its owner alone', () => {
    const rootDir = tempRoot();
    resolveJwtKeys(development, { needPrivateKey: true, rootDir });
    expect(modeOf(join(rootDir, '.data/dev-keys/jwt-ed25519.json'))).toBe(0o600);
    expect(modeOf(join(rootDir, '.data/dev-keys'))).toBe(0o700);
    expect(modeOf(join(rootDir, '.data')) & 0o022).toBe(0);
  });

  test('a world-writable .data and loose modes left by older runs are tightened before the keys are used', () => {
    const rootDir = tempRoot();
    const first = resolveJwtKeys(development, { needPrivateKey: true, rootDir });
    chmodSync(join(rootDir, '.data'), 0o777);
    chmodSync(join(rootDir, '.data/dev-keys'), 0o777);
    chmodSync(join(rootDir, '.data/dev-keys/jwt-ed25519.json'), 0o666);
    const again = resolveJwtKeys(development, { needPrivateKey: true, rootDir });
    expect(again).toEqual(first);
    expect(modeOf(join(rootDir, '.data')) & 0o022).toBe(0);
    expect(modeOf(join(rootDir, '.data/dev-keys'))).toBe(0o700);
    expect(modeOf(join(rootDir, '.data/dev-keys/jwt-ed25519.json'))).toBe(0o600);
  });

  test.skipIf(!isRoot)('keys planted by another user are refused, not used', () => {
    const rootDir = tempRoot();
    const keysDir = join(rootDir, '.data/dev-keys');
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(keysDir, 'jwt-ed25519.json'), JSON.stringify(generateJwtKeyPair()), { mode: 0o600 });
    chownSync(join(keysDir, 'jwt-ed25519.json'), NOBODY, NOBODY);
    expect(() => resolveJwtKeys(development, { needPrivateKey: true, rootDir })).toThrow(ConfigError);
    chownSync(join(keysDir, 'jwt-ed25519.json'), 0, 0);
    chownSync(keysDir, NOBODY, NOBODY);
    expect(() => resolveJwtKeys(development, { needPrivateKey: true, rootDir })).toThrow(ConfigError);
  });
});
