// Scenario 6: what Prisma costs on the client list, against the same statement on plain `pg`
// (tools/bench/plain-pg-client-list.ts: same SQL, same shaping code):
// - end to end (the target): the system as deployed, database path (cache off, as scenario 3), once
//   with the real client worker and once with the bench-only one whose list runs on plain pg
//   (peers/plain-pg-client-worker.ts: the same worker otherwise, on the same pool); 64 connections
//   through each gateway, both measured in every round, the order alternating between rounds, each
//   measured run in a full run right after WARM_UP_SECONDS of unmeasured load (rounds.ts says why);
// - in process: the repository against the plain-pg list, pages/s, no HTTP at all (the second row,
//   not the target), in as many rounds of IN_PROCESS_SECONDS each, the order alternating too.
import pg from 'pg';
import { buildPooledDatabaseConfig, openPooledDatabase } from '../../shared/db.ts';
import { createClientRepository } from '../../workers/client/client-repository.ts';
import { fetchPatiently, pagesPerSecond } from './load.ts';
import { median } from './median.ts';
import { createPlainPgClientList } from './plain-pg-client-list.ts';
import { measureInRounds, medianRun, type RoundsOptions, ratioOfRounds } from './rounds.ts';
import { LIST_PATH, loadList, type ScenarioOptions, startSystem, stopAll, tokenFor } from './scenarios.ts';

const PLAIN_PG_CLIENT_WORKER = 'tools/bench/peers/plain-pg-client-worker.ts';
/** The workers' pool in the system as deployed (startSystem's DB_POOL_SIZE); the in-process pools match it. */
const POOL_SIZE = 5;
const PATHS = ['prisma', 'plainPg'] as const;
type ListPath = (typeof PATHS)[number];

type ListQueryCostOptions = ScenarioOptions & RoundsOptions;

export async function runListQueryCost(options: ListQueryCostOptions) {
  const endToEnd = await measureEndToEnd(options);
  const inProcess = await measureInProcess(options);
  return { endToEnd, inProcess };
}

async function measureEndToEnd(options: ListQueryCostOptions) {
  const { stack } = options;
  const systems: Partial<Record<ListPath, Awaited<ReturnType<typeof startSystem>>>> = {};
  try {
    systems.prisma = await startSystem(stack, {});
    systems.plainPg = await startSystem(stack, {}, PLAIN_PG_CLIENT_WORKER);
    const gateways = { prisma: systems.prisma.gateway.url, plainPg: systems.plainPg.gateway.url };
    const headers = { authorization: `Bearer ${tokenFor(stack)}` };
    const url = (path: ListPath) => `${gateways[path]}${LIST_PATH}`;
    const measure = (path: ListPath, seconds: number) => loadList(stack, gateways[path], 64, seconds);
    // Opens both systems' pools and warms their code (JIT) before anything is compared.
    for (const path of PATHS) await measure(path, 1);
    // Both must serve the same page, or the comparison would be of different work (asked once warm, and
    // patiently: a gateway still shedding on a busy machine must not make the answers differ).
    const [viaPrisma, viaPlainPg] = await Promise.all(
      PATHS.map(async (path) => {
        const answer = await fetchPatiently(url(path), { headers });
        return `${answer.status} ${answer.body}`;
      }),
    );
    if (viaPrisma !== viaPlainPg)
      options.log(`scenario 6: the two workers answered differently:\n${viaPrisma}\n${viaPlainPg}`);
    const runs = await measureInRounds('scenario 6', PATHS, options, measure);
    return {
      samePage: viaPrisma === viaPlainPg,
      prisma: medianRun(runs.prisma),
      plainPg: medianRun(runs.plainPg),
      /** Every measured run, each of which the outcome checks look at. */
      all: [...runs.prisma, ...runs.plainPg],
      ratio: ratioOfRounds(runs.prisma, runs.plainPg, (run) => run.requestsPerSecond),
    };
  } finally {
    await stopAll(Object.values(systems).flatMap((system) => system.all));
  }
}

/**
 * Each side's share of an in-process round, seconds: short, since nothing here idles between rounds
 * (one pool each, this process busy throughout). One measurement of 7.5 s each, as it was, moved
 * 0.75-0.87 between the full runs of 2026-11-29, more than the repeated ratios did.
 */
export const IN_PROCESS_SECONDS = 2;

/** The repository (Prisma 7 + adapter-pg) against the plain-pg list in this process, 16 loops, same pool size. */
async function measureInProcess(options: ScenarioOptions & RoundsOptions) {
  const { stack } = options;
  const database = openPooledDatabase(
    buildPooledDatabaseConfig({ databaseUrl: stack.transactionUrl, poolSize: POOL_SIZE, poolMode: 'transaction' }),
    { warn() {}, error() {} },
  );
  const plain = new pg.Pool({ connectionString: stack.transactionUrl, max: POOL_SIZE });
  const clients = createClientRepository(database.prisma);
  const plainList = createPlainPgClientList(plain);
  const query = { ownerId: stack.user.id, page: 1, limit: 20, sort: '-createdAt' as const };
  try {
    const list = { prisma: () => clients.listForOwner(query), plainPg: () => plainList.listForOwner(query) };
    // No machine-speed sample between these rounds: each would leave both pools idle for seconds.
    const runs = await measureInRounds(
      'scenario 6, in process',
      PATHS,
      { ...options, seconds: IN_PROCESS_SECONDS, betweenMeasurements: undefined, warmUpEvery: false },
      (path, seconds) => pagesPerSecond(list[path], seconds),
    );
    return {
      prisma: median(runs.prisma),
      plainPg: median(runs.plainPg),
      ratio: ratioOfRounds(runs.prisma, runs.plainPg, (pages) => pages),
    };
  } finally {
    await database.close();
    await plain.end();
  }
}
