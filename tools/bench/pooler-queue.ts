// How long clients waited in PgBouncer's queue for a server connection while a load ran: the longest
// `maxwait` SHOW POOLS reported, sampled from the admin console (the bench's PgBouncers make the
// application role a stats user). With slow-statements.ts it tells a statement that ran long in
// PostgreSQL from one that waited in the pooler (scenario 2's rare 503).
import pg from 'pg';

export interface PoolerQueueWatch {
  /** Stops sampling; the longest wait seen (seconds) and the pool's state at that moment. */
  stop(): Promise<{ longestWaitSeconds: number; atThatMoment: string }>;
}

/** `pooledUrl`: a client URL of the PgBouncer to watch; its admin console is the `pgbouncer` database. */
export async function watchPoolerQueue(pooledUrl: string, everyMs = 100): Promise<PoolerQueueWatch> {
  const url = new URL(pooledUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/pgbouncer';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  let longestWaitSeconds = 0;
  let atThatMoment = '';
  let watching = true;
  const sampling = (async () => {
    while (watching) {
      // The console speaks only the simple query protocol: no parameters.
      const { rows } = await admin.query('SHOW POOLS');
      for (const pool of rows.filter((row) => row.database === database)) {
        const wait = Number(pool.maxwait) + Number(pool.maxwait_us ?? 0) / 1e6;
        if (wait > longestWaitSeconds) {
          longestWaitSeconds = wait;
          atThatMoment = `clients active ${pool.cl_active}, waiting ${pool.cl_waiting}; servers active ${pool.sv_active}, idle ${pool.sv_idle}, used ${pool.sv_used}, logging in ${pool.sv_login}`;
        }
      }
      await Bun.sleep(everyMs);
    }
  })();
  return {
    async stop() {
      watching = false;
      await sampling.catch(() => {});
      await admin.end().catch(() => {});
      return { longestWaitSeconds: Math.round(longestWaitSeconds * 1000) / 1000, atThatMoment };
    },
  };
}
