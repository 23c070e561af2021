// Access tokens are signed by the auth worker alone, with an Ed25519 key pair: the other services
// hold only the public key, so a compromised user or client worker cannot mint tokens (an HMAC
// secret would have to be shared with every verifier).
import { generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServiceConfig } from './config-schema.ts';
import { ConfigError, REPOSITORY_ROOT } from './env.ts';

export interface JwtKeys {
  privateKey?: string;
  publicKey: string;
}

export function generateJwtKeyPair(): Required<JwtKeys> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** `\n` written literally (one-line env values) becomes a real newline. */
const pem = (value: string) => value.replace(/\\n/g, '\n');

/**
 * Configured keys win. In development a pair is generated once into `.data/dev-keys/` (ignored by
 * git) so all local processes agree; in production missing keys stop the service.
 */
export function resolveJwtKeys(
  config: Pick<ServiceConfig, 'JWT_PRIVATE_KEY' | 'JWT_PUBLIC_KEY' | 'NODE_ENV'>,
  options: { needPrivateKey: boolean; rootDir?: string },
): JwtKeys {
  if (config.JWT_PUBLIC_KEY && (!options.needPrivateKey || config.JWT_PRIVATE_KEY)) {
    return {
      publicKey: pem(config.JWT_PUBLIC_KEY),
      privateKey: config.JWT_PRIVATE_KEY ? pem(config.JWT_PRIVATE_KEY) : undefined,
    };
  }
  if (config.NODE_ENV === 'production') {
    throw new ConfigError(
      `JWT_PUBLIC_KEY${options.needPrivateKey ? ' and JWT_PRIVATE_KEY are' : ' is'} required in production ` +
        '(PEM, Ed25519; development generates a pair under .data/dev-keys)',
    );
  }
  const pair = readOrCreateDevelopmentKeyPair(join(options.rootDir ?? REPOSITORY_ROOT, '.data', 'dev-keys'));
  return { privateKey: options.needPrivateKey ? pair.privateKey : undefined, publicKey: pair.publicKey };
}

/**
 * Several processes may start at once (compose starts the workers together): the pair is written to
 * a temporary file and hard-linked into place, which fails if another process got there first; the
 * loser then reads the winner's pair, so every process ends up with the same keys.
 */
function readOrCreateDevelopmentKeyPair(dir: string): Required<JwtKeys> {
  const path = join(dir, 'jwt-ed25519.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  keepPrivate(dirname(dir), 0o755, 'the data folder', { followLink: true }); // .data may link to another disk
  keepPrivate(dir, 0o700, 'the development key folder');
  if (existsSync(path)) keepPrivate(path, 0o600, 'the development key pair');
  else {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(generateJwtKeyPair()), { mode: 0o600 });
    try {
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temporary);
    }
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * Keys are trusted only if no other local user could have written them: `path` must be ours (not a
 * link), and is brought within `allowed` (no write for others on folders, nothing for others on the
 * key file). A pair planted by someone else is refused rather than used to sign or verify tokens.
 * Modes loosened by older runs (.data was once made world-writable) are tightened here.
 */
function keepPrivate(path: string, allowed: number, what: string, options: { followLink?: boolean } = {}): void {
  const stats = options.followLink ? statSync(path) : lstatSync(path);
  const uid = process.getuid?.();
  if (stats.isSymbolicLink() || (uid !== undefined && stats.uid !== uid)) {
    throw new ConfigError(
      `${what} (${path}) is ${stats.isSymbolicLink() ? 'a symbolic link' : `owned by uid ${stats.uid}`}, not by this ` +
        'user: refusing development JWT keys another user could have planted. Delete it and start again.',
    );
  }
  const mode = stats.mode & 0o7777;
  if ((mode & ~allowed) !== 0) chmodSync(path, mode & allowed);
}
