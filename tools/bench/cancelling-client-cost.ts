// `bun --no-env-file tools/bench/cancelling-client-cost.ts [POSTGRES_URL]`: what the cancelling pg
// client (shared/cancelling-pg-client.ts, DB_QUERY_TIMEOUT as a cancel) costs per statement against
// pg's own Client with its query_timeout, which the services used before. Two pools of 4 on the same
// server, 16 loops of a one-row statement each; the two sides take turns in every round (the order
// swapped each round), so a machine that slows down weighs on both. Prints each round and the median
// of new / old statements per second. No pooler in between: what differs is the client alone.
import pg from 'pg';
import { cancellingClient } from '../../shared/cancelling-pg-client.ts';
import { median } from './median.ts';

const url = process.argv[2] ?? process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const ROUNDS = 8;
const ROUND_MS = 2_000;
const TIMEOUT_MS = 5_000;

const before = new pg.Pool({ connectionString: url, max: 4, query_timeout: TIMEOUT_MS } as pg.PoolConfig);
const cancelling = new pg.Pool({ connectionString: url, max: 4, Client: cancellingClient(TIMEOUT_MS) });

/** Statements per second through `pool` for `ms`, with 16 loops (as adapter-pg sends them: a config, array rows). */
async function statementsPerSecond(pool: pg.Pool, ms: number): Promise<number> {
  let done = 0;
  const until = performance.now() + ms;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        await pool.query({ text: 'SELECT $1::int AS x', values: [1], rowMode: 'array' });
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}

for (const pool of [before, cancelling]) await statementsPerSecond(pool, 1_000); // connections open, JIT warm
const ratios: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [cancelling, before] : [before, cancelling];
  const rates = new Map<pg.Pool, number>();
  for (const pool of order) rates.set(pool, await statementsPerSecond(pool, ROUND_MS));
  const [old, now] = [rates.get(before) as number, rates.get(cancelling) as number];
  ratios.push(now / old);
  console.log(
    `round ${round + 1}: pg's query_timeout ${old.toFixed(0)}/s, cancelling client ${now.toFixed(0)}/s, ratio ${(now / old).toFixed(3)}`,
  );
}
console.log(`cancelling client / pg's query_timeout, median of ${ROUNDS} rounds: ${median(ratios).toFixed(3)}`);
await Promise.all([before.end(), cancelling.end()]);
