// The faults the suite injects, one at a time, each with the way it heals. Every one is a real fault
// of a real part: a signal to a process, a restart, or the TCP proxy between workers and PgBouncer.
import { startRedis } from '../stack/redis.ts';
import type { FaultStack } from './fault-stack.ts';

export interface Fault {
  id: string;
  /** How the README's fault table names it. */
  title: string;
  inject(stack: FaultStack): Promise<void>;
  heal(stack: FaultStack): Promise<void>;
}

let resetTimer: ReturnType<typeof setInterval> | undefined;

export const FAULTS: Fault[] = [
  {
    id: 'pgbouncer-killed',
    title: '(a) PgBouncer killed (-9), restarted',
    inject: async ({ pgbouncer }) => {
      pgbouncer.signal('SIGKILL');
      await pgbouncer.exited();
    },
    heal: ({ pgbouncer }) => pgbouncer.restart(),
  },
  {
    id: 'pgbouncer-safe-shutdown',
    title: '(b) PgBouncer safe shutdown (SIGINT), restarted',
    inject: async ({ pgbouncer }) => {
      pgbouncer.signal('SIGINT');
      await pgbouncer.exited();
    },
    heal: ({ pgbouncer }) => pgbouncer.restart(),
  },
  {
    id: 'pgbouncer-paused',
    title: '(c) PgBouncer PAUSE ... RESUME',
    inject: async ({ pgbouncer }) => pgbouncer.signal('SIGUSR1'),
    heal: async ({ pgbouncer }) => pgbouncer.signal('SIGUSR2'),
  },
  {
    id: 'postgres-fast-restart',
    title: '(d) PostgreSQL fast restart (57P01 to every session)',
    // Stop and start are one step: the fault lasts as long as the restart takes.
    inject: ({ postgres }) => postgres.restart(),
    heal: async () => {},
  },
  {
    id: 'proxy-latency',
    title: '(e) +200 ms each way between workers and PgBouncer',
    inject: async ({ proxy }) => proxy.setLatency(200),
    heal: async ({ proxy }) => proxy.setLatency(0),
  },
  {
    id: 'proxy-blackhole',
    title: '(e) blackhole between workers and PgBouncer',
    inject: async ({ proxy }) => proxy.setBlackhole(true),
    heal: async ({ proxy }) => proxy.setBlackhole(false),
  },
  {
    id: 'proxy-resets',
    title: '(e) every connection reset, every 300 ms',
    inject: async ({ proxy }) => {
      proxy.resetAll();
      resetTimer = setInterval(() => proxy.resetAll(), 300);
    },
    heal: async () => clearInterval(resetTimer),
  },
  {
    id: 'redis-frozen',
    title: '(f) Redis frozen (SIGSTOP)',
    inject: async ({ redis }) => redis.pause(),
    heal: async ({ redis }) => redis.resume(),
  },
  {
    id: 'redis-stopped',
    title: '(f) Redis stopped, started again',
    inject: ({ redis }) => redis.stop(),
    heal: async (stack) => {
      stack.redis = await startRedis(stack.redis.port);
    },
  },
  {
    id: 'worker-killed',
    title: '(g) a client-worker replica killed (-9), restarted',
    inject: async ({ clients }) => clients[0]?.kill('SIGKILL'),
    heal: async ({ clients }) => {
      await Bun.sleep(200); // the port is free once the process is gone
      await clients[0]?.restart();
    },
  },
];
