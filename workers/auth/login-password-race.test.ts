// A login that verified the OLD password while a password change commits must not leave a session
// that survives the change. The login checks the hash (slow, on purpose) and only then starts its
// session; a change landing in between used to revoke "every other session" before that one existed.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { installSessionFaults, type SessionFaults, waitFor } from '../../tools/testing/session-faults.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let faults: SessionFaults;
beforeAll(async () => {
  system = await startSystem({ OVERLOAD_EVENT_LOOP_DELAY_MS: '0' });
  faults = await installSessionFaults();
});
afterAll(async () => {
  await faults?.uninstall();
  await system?.close();
});

const NEW_PASSWORD = 'a brand new password';
const changePassword = (user: { accessToken: string; password: string }) =>
  call(system.gatewayUrl, 'PATCH', '/api/v1/users/me', {
    token: user.accessToken,
    body: { password: NEW_PASSWORD, currentPassword: user.password },
  });
const loginWithOldPassword = (user: { email: string; password: string }) =>
  call(system.gatewayUrl, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });

/** What is left of a login's session after the change: '' when nothing works any more. */
async function survivingParts(login: { status: number; body: { accessToken?: string; refreshToken?: string } }) {
  if (login.status !== 200) return '';
  const parts: string[] = [];
  const me = await call(system.gatewayUrl, 'GET', '/api/v1/users/me', { token: login.body.accessToken });
  if (me.status === 200) parts.push('access token');
  const refresh = await call(system.gatewayUrl, 'POST', '/api/v1/auth/refresh', {
    body: { refreshToken: login.body.refreshToken },
  });
  if (refresh.status === 200) parts.push('refresh token');
  return parts.join(' + ');
}

const TRIALS = 40;

describe('login with the old password against a concurrent password change', () => {
  test(`${TRIALS} free races, the login started at offsets swept across the change: no session survives`, async () => {
    // How long a change takes here, so the sweep covers the moment it commits.
    const probe = await registerUser(system.gatewayUrl, 'pwprobe');
    const started = performance.now();
    expect((await changePassword(probe)).status).toBe(200);
    const changeMs = performance.now() - started;

    const survivors: string[] = [];
    const outcomes: Record<string, number> = {};
    for (let trial = 0; trial < TRIALS; trial++) {
      const user = await registerUser(system.gatewayUrl, `pwlogin${trial}`);
      const offsetMs = (trial / TRIALS) * changeMs * 1.2;
      const change = changePassword(user);
      await Bun.sleep(offsetMs);
      const login = await loginWithOldPassword(user);
      expect((await change).status).toBe(200);
      const outcome = `${login.status} ${login.body?.code ?? ''}`.trim();
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const left = await survivingParts(login);
      if (left) survivors.push(`trial ${trial} (login ${offsetMs.toFixed(0)} ms after the change began): ${left}`);
    }
    console.info(`[login vs password change] change ≈ ${changeMs.toFixed(0)} ms; logins: ${JSON.stringify(outcomes)}`);
    expect(survivors).toEqual([]);
  }, 120_000);

  test('the login paused after verifying, right before its session is written: the change still ends it', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const user = await registerUser(system.gatewayUrl, `pwgate${trial}`);
      await faults.closeInsertGate(user.id);
      const login = loginWithOldPassword(user);
      await waitFor(async () => (await faults.lockWaiters()) >= 1);
      let changeSettled = false;
      const change = changePassword(user).finally(() => {
        changeSettled = true;
      });
      // Either the change finishes while the login is paused (the defect), or it waits for the login.
      await waitFor(async () => changeSettled || (await faults.lockWaiters()) >= 2);
      await faults.openInsertGate(user.id);
      const [loggedIn, changed] = await Promise.all([login, change]);
      expect(changed.status).toBe(200);
      expect(await survivingParts(loggedIn), `trial ${trial}`).toBe('');
    }
  }, 60_000);
});
