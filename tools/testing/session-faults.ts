// Deterministic interleavings and faults for refresh-session tests, made of real PostgreSQL parts
// (triggers and advisory locks in the test database), so a race that happens once in a while in
// production happens on every run here.
//
// - The insert gate: every insert into refresh_sessions first takes a shared advisory lock keyed by
//   its user. While a test holds that lock exclusively, a rotation of that user stops right before
//   it writes the next token, which is exactly where the old code let a revocation slip past.
// - Faults: a user listed in test_session_faults has its refresh-token inserts, or its session
//   revocations (updates of refresh_sessions or refresh_families), fail with an error.
import pg from 'pg';
import { testStack } from './test-stack.ts';

const INSTALL = `
CREATE TABLE IF NOT EXISTS test_session_faults (user_id uuid NOT NULL, fault text NOT NULL, PRIMARY KEY (user_id, fault));

CREATE OR REPLACE FUNCTION test_session_insert_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext(NEW.user_id::text));
  IF EXISTS (SELECT 1 FROM test_session_faults WHERE user_id = NEW.user_id AND fault = 'insert') THEN
    RAISE EXCEPTION 'test fault: refresh token insert refused';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION test_session_revoke_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM test_session_faults WHERE user_id = NEW.user_id AND fault = 'revoke') THEN
    RAISE EXCEPTION 'test fault: session revocation refused';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS test_session_insert_gate ON refresh_sessions;
CREATE TRIGGER test_session_insert_gate BEFORE INSERT ON refresh_sessions
  FOR EACH ROW EXECUTE FUNCTION test_session_insert_gate();
DROP TRIGGER IF EXISTS test_session_revoke_fault ON refresh_sessions;
CREATE TRIGGER test_session_revoke_fault BEFORE UPDATE ON refresh_sessions
  FOR EACH ROW EXECUTE FUNCTION test_session_revoke_fault();

DO $$
BEGIN
  IF to_regclass('refresh_families') IS NOT NULL THEN
    DROP TRIGGER IF EXISTS test_session_revoke_fault ON refresh_families;
    CREATE TRIGGER test_session_revoke_fault BEFORE UPDATE ON refresh_families
      FOR EACH ROW EXECUTE FUNCTION test_session_revoke_fault();
  END IF;
END $$;
`;

const UNINSTALL = `
DROP TRIGGER IF EXISTS test_session_insert_gate ON refresh_sessions;
DROP TRIGGER IF EXISTS test_session_revoke_fault ON refresh_sessions;
DO $$
BEGIN
  IF to_regclass('refresh_families') IS NOT NULL THEN
    DROP TRIGGER IF EXISTS test_session_revoke_fault ON refresh_families;
  END IF;
END $$;
DROP FUNCTION IF EXISTS test_session_insert_gate();
DROP FUNCTION IF EXISTS test_session_revoke_fault();
DROP TABLE IF EXISTS test_session_faults;
`;

export interface SessionFaults {
  /** Until `open` is called, rotations of this user stop right before inserting their next token. */
  closeInsertGate(userId: string): Promise<void>;
  openInsertGate(userId: string): Promise<void>;
  fail(userId: string, fault: 'insert' | 'revoke'): Promise<void>;
  heal(userId: string): Promise<void>;
  /** Server processes of the test database waiting on a lock (row lock, advisory lock) right now. */
  lockWaiters(): Promise<number>;
  uninstall(): Promise<void>;
}

/** One direct (not pooled) session: advisory locks held by it last until it unlocks them. */
export async function installSessionFaults(): Promise<SessionFaults> {
  const client = new pg.Client({ connectionString: testStack().directUrl });
  await client.connect();
  await client.query(INSTALL);
  return {
    async closeInsertGate(userId) {
      await client.query('SELECT pg_advisory_lock(hashtext($1::text))', [userId]);
    },
    async openInsertGate(userId) {
      await client.query('SELECT pg_advisory_unlock(hashtext($1::text))', [userId]);
    },
    async fail(userId, fault) {
      await client.query('INSERT INTO test_session_faults (user_id, fault) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        userId,
        fault,
      ]);
    },
    async heal(userId) {
      await client.query('DELETE FROM test_session_faults WHERE user_id = $1', [userId]);
    },
    async lockWaiters() {
      const { rows } = await client.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      return rows[0].n;
    },
    async uninstall() {
      try {
        await client.query(UNINSTALL);
      } finally {
        await client.end();
      }
    },
  };
}

/** Polls until `done()` holds or `ms` pass; returns whether it held. */
export async function waitFor(done: () => boolean | Promise<boolean>, ms = 4000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await Bun.sleep(10);
  }
  return false;
}
