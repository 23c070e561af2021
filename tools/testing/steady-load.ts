// Steady load for multi-host tests, run inside a host's network namespace (the test process has no
// address on the test network): CONCURRENCY loops each sending GET TARGET_URL with TOKEN, one request
// after the other, until its standard input ends. Every request is recorded with its start and end time (ms since the
// epoch: the same clock as the test's, so phases can be cut by the test's own time stamps), its status
// and, when it failed, why. Then it lets in-flight requests finish for a moment, records the
// rest as `unfinished`, writes OUT_FILE and exits.
//
// A 200 counts only with the page the database host seeded (EXPECT_ROWS rows): a gateway that answered
// something else with 200 must not pass as success.
import { writeFileSync } from 'node:fs';

export interface LoadRecord {
  start: number;
  end: number;
  status: number;
  /** Set when it failed: the error code of the body, a thrown error's name, `unfinished`, `bad-body`. */
  cause?: string;
}

export interface LoadResult {
  concurrency: number;
  records: LoadRecord[];
}

/** Longer than the gateway's own upstream timeout: a request that outlives it is a hang, named as such. */
const CLIENT_TIMEOUT_MS = 15_000;
const DRAIN_MS = 2_000;

const { TARGET_URL, TOKEN, OUT_FILE } = process.env;
const concurrency = Number(process.env.CONCURRENCY ?? 8);
const expectRows = Number(process.env.EXPECT_ROWS ?? 0);
if (!TARGET_URL || !TOKEN || !OUT_FILE) throw new Error('steady-load.ts needs TARGET_URL, TOKEN and OUT_FILE');

const now = () => performance.timeOrigin + performance.now();
const records: LoadRecord[] = [];
const inFlight = new Set<{ start: number }>();
let running = true;

async function once(): Promise<void> {
  const pending = { start: now() };
  inFlight.add(pending);
  let status = 0;
  let cause: string | undefined;
  try {
    const response = await fetch(TARGET_URL as string, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    status = response.status;
    const text = await response.text();
    if (status === 200) {
      const rows = (JSON.parse(text) as { data?: unknown[] }).data?.length;
      if (rows !== expectRows) cause = 'bad-body';
    } else {
      cause = (JSON.parse(text) as { code?: string }).code ?? `status ${status}`;
    }
  } catch (error) {
    cause = (error as Error).name === 'TimeoutError' ? 'client-timeout' : (error as Error).name || 'error';
  }
  inFlight.delete(pending);
  records.push({ start: pending.start, end: now(), status, cause });
}

const loops = Array.from({ length: concurrency }, async () => {
  while (running) await once();
});

process.stdin.on('data', () => {});
process.stdin.on('end', async () => {
  running = false;
  await Promise.race([Promise.all(loops), Bun.sleep(DRAIN_MS)]);
  for (const pending of inFlight) records.push({ start: pending.start, end: now(), status: 0, cause: 'unfinished' });
  writeFileSync(OUT_FILE, JSON.stringify({ concurrency, records } satisfies LoadResult));
  process.exit(0);
});
