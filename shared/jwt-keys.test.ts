import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './env.ts';
import { generateJwtKeyPair, resolveJwtKeys } from './jwt-keys.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempRoot = () => {
  const dir = mkdtempSync(join(tmpdir(), 'poolwise-keys-'));
  dirs.push(dir);
  return dir;
};

describe('resolveJwtKeys', () => {
  test('configured keys win; one-line PEMs with \\n are accepted', () => {
    const pair = generateJwtKeyPair();
    const keys = resolveJwtKeys(
      {
        NODE_ENV: 'production',
        JWT_PUBLIC_KEY: pair.publicKey.replace(/\n/g, '\\n'),
        JWT_PRIVATE_KEY: pair.privateKey,
      },
      { needPrivateKey: true },
    );
    expect(keys).toEqual(pair);
  });

  test('production without keys refuses to start', () => {
    expect(() => resolveJwtKeys({ NODE_ENV: 'production' }, { needPrivateKey: false, rootDir: tempRoot() })).toThrow(
      ConfigError,
    );
  });

  test('development generates one pair that every service then shares; verifiers get no private key', () => {
    const rootDir = tempRoot();
    const signer = resolveJwtKeys({ NODE_ENV: 'development' }, { needPrivateKey: true, rootDir });
    const verifier = resolveJwtKeys({ NODE_ENV: 'development' }, { needPrivateKey: false, rootDir });
    expect(signer.privateKey).toContain('PRIVATE KEY');
    expect(verifier.publicKey).toBe(signer.publicKey);
    expect(verifier.privateKey).toBeUndefined();
  });
});
