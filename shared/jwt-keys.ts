// Access tokens are signed by the auth worker alone, with an Ed25519 key pair: the other services
// hold only the public key, so a compromised user or client worker cannot mint tokens (an HMAC
// secret would have to be shared with every verifier).
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
 * Configured keys win. In development they are generated once into `.data/dev-keys/` (ignored by
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
  const dir = join(options.rootDir ?? REPOSITORY_ROOT, '.data', 'dev-keys');
  const privatePath = join(dir, 'jwt-ed25519-private.pem');
  const publicPath = join(dir, 'jwt-ed25519-public.pem');
  if (!existsSync(privatePath) || !existsSync(publicPath)) {
    const pair = generateJwtKeyPair();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(privatePath, pair.privateKey, { mode: 0o600 });
    writeFileSync(publicPath, pair.publicKey);
  }
  return {
    privateKey: options.needPrivateKey ? readFileSync(privatePath, 'utf8') : undefined,
    publicKey: readFileSync(publicPath, 'utf8'),
  };
}
