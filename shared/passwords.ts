// argon2id at OWASP's minimum (19 MiB, t=2, p=1). Bun hashes off the event loop, no native addon.
const ARGON2ID = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const;

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2ID);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return Bun.password.verify(password, hash);
}

let dummyHash: Promise<string> | undefined;

/**
 * Burns the same time as a real check when the email is unknown, so a wrong email and a wrong
 * password cannot be told apart by timing.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('not-a-real-password-just-for-timing');
  await verifyPassword(password, await dummyHash);
  return false;
}
