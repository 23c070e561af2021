// Refresh-token rotation against concurrent rotation, reuse, logout and password change, on the real
// stack. The invariant throughout: once a family is revoked (reuse, logout, password change), no token
// of it works again, including one a rotation that was in flight at that moment is about to issue.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { installSessionFaults, type SessionFaults, waitFor } from '../../tools/testing/session-faults.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let faults: SessionFaults;
beforeAll(async () => {
  // Correctness under races, not overload: on two shared cores the lag guard sometimes answers 503 (0 turns it off).
  system = await startSystem({ OVERLOAD_EVENT_LOOP_DELAY_MS: '0' });
  faults = await installSessionFaults();
});
afterAll(async () => {
  await faults?.uninstall();
  await system?.close();
});

const post = (path: string, body?: unknown, token?: string) => call(system.gatewayUrl, 'POST', path, { body, token });
const refresh = (refreshToken: string) => post('/api/v1/auth/refresh', { refreshToken });

/** A request in flight whose settling the test can observe without awaiting it. */
function inFlight<T>(promise: Promise<T>) {
  const flight = { promise, settled: false };
  promise.finally(() => {
    flight.settled = true;
  });
  return flight;
}

const TRIALS = 50;

describe('two simultaneous rotations of one token (the thief scenario)', () => {
  test(`${TRIALS} free races: after a reuse answer, no token of the family works`, async () => {
    const broken: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const user = await registerUser(system.gatewayUrl, `race${trial}`);
      const answers = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);
      // One wins; the other cannot tell a thief from a double send and treats it as reuse.
      expect(answers.map((answer) => answer.body?.code ?? answer.status).sort()).toEqual([200, 'AUTH_REFRESH_REUSED']);
      const winner = answers.find((answer) => answer.status === 200);
      if (winner) {
        const afterwards = await refresh(winner.body.refreshToken);
        if (afterwards.status === 200) broken.push(`trial ${trial}: the winner's new token still works`);
      }
    }
    expect(broken).toEqual([]);
  }, 120_000);

  test('the winner paused before writing its next token: the reuse still ends the family', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const user = await registerUser(system.gatewayUrl, `paused${trial}`);
      await faults.closeInsertGate(user.id);
      const first = inFlight(refresh(user.refreshToken));
      const second = inFlight(refresh(user.refreshToken));
      // Either the loser answers while the winner is paused (the defect), or it waits for the winner
      // (two lock waiters): then let the winner go on.
      await waitFor(async () => first.settled || second.settled || (await faults.lockWaiters()) >= 2);
      await faults.openInsertGate(user.id);
      const answers = await Promise.all([first.promise, second.promise]);
      expect(answers.map((answer) => answer.body?.code ?? answer.status).sort()).toEqual([200, 'AUTH_REFRESH_REUSED']);
      const winner = answers.find((answer) => answer.status === 200);
      const afterwards = await refresh(winner?.body.refreshToken);
      expect(afterwards.status, `trial ${trial}`).toBe(401);
    }
  }, 60_000);
});

describe('revocation reaches a rotation in flight', () => {
  test('logout while a refresh of the same session is in flight: its new token is dead', async () => {
    const user = await registerUser(system.gatewayUrl, 'logoutrace');
    await faults.closeInsertGate(user.id);
    const rotation = inFlight(refresh(user.refreshToken));
    await waitFor(async () => (await faults.lockWaiters()) >= 1);
    const logout = inFlight(post('/api/v1/auth/logout', undefined, user.accessToken));
    await waitFor(async () => logout.settled || (await faults.lockWaiters()) >= 2);
    await faults.openInsertGate(user.id);
    const [rotated, loggedOut] = await Promise.all([rotation.promise, logout.promise]);
    expect(loggedOut.status).toBe(204);
    // The rotation started first, so it completes; what it issued must be dead all the same.
    expect(rotated.status).toBe(200);
    expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
  });

  test('password change while an attacker’s refresh is in flight: the attacker’s new token is dead', async () => {
    const victim = await registerUser(system.gatewayUrl, 'pwrace');
    const attacker = await post('/api/v1/auth/login', { email: victim.email, password: victim.password });
    await faults.closeInsertGate(victim.id);
    const rotation = inFlight(refresh(attacker.body.refreshToken));
    await waitFor(async () => (await faults.lockWaiters()) >= 1);
    const change = inFlight(
      call(system.gatewayUrl, 'PATCH', '/api/v1/users/me', {
        token: victim.accessToken,
        body: { password: 'a brand new password', currentPassword: victim.password },
      }),
    );
    await waitFor(async () => change.settled || (await faults.lockWaiters()) >= 2);
    await faults.openInsertGate(victim.id);
    const [rotated, changed] = await Promise.all([rotation.promise, change.promise]);
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(rotated.status).toBe(200);
    expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
    // The victim's own session continues.
    expect((await refresh(victim.refreshToken)).status).toBe(200);
  });
});

describe('failures leave nothing half done', () => {
  test('a rotation whose insert fails does not burn the token: the retry works', async () => {
    const user = await registerUser(system.gatewayUrl, 'insertfail');
    await faults.fail(user.id, 'insert');
    const failed = await refresh(user.refreshToken);
    await faults.heal(user.id);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const retry = await refresh(user.refreshToken);
    expect(retry.status).toBe(200);
  });

  test('a password change whose revocation fails changes nothing', async () => {
    const victim = await registerUser(system.gatewayUrl, 'revokefail');
    const attacker = await post('/api/v1/auth/login', { email: victim.email, password: victim.password });
    await faults.fail(victim.id, 'revoke');
    const change = await call(system.gatewayUrl, 'PATCH', '/api/v1/users/me', {
      token: victim.accessToken,
      body: { password: 'a brand new password', currentPassword: victim.password },
    });
    await faults.heal(victim.id);
    expect(change.status).toBeGreaterThanOrEqual(500);
    const newPasswordWorks = (
      await post('/api/v1/auth/login', { email: victim.email, password: 'a brand new password' })
    ).status;
    const attackerStillIn = (await refresh(attacker.body.refreshToken)).status;
    // All or nothing: the password did not change and the sessions live on, never a new password
    // with the attacker's session still alive.
    expect({ newPasswordWorks, attackerStillIn }).toEqual({ newPasswordWorks: 401, attackerStillIn: 200 });
  });
});
