// A TCP proxy for tests that need a network between two processes (a service and Redis, the workers
// and PgBouncer). It can add latency (one process further away than another), blackhole the link
// (connections stay open and nothing gets through, as when a host vanishes without a word), reset
// every connection (RST, as a restarting middlebox does), or cut it (connections dropped, new ones
// refused) and heal it. Written on node:net because no Toxiproxy server installs here (FACTS.md).
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  url: string;
  /** Delay, in ms, for every chunk in either direction (order is kept). */
  setLatency(ms: number): void;
  /**
   * While on, nothing crosses in either direction and new connections are accepted but go nowhere;
   * what was held back is delivered when it is turned off (TCP would retransmit it), unless an end
   * gave up and closed its connection first.
   */
  setBlackhole(on: boolean): void;
  /** Resets every open connection (the client sees ECONNRESET); new ones are accepted as usual. */
  resetAll(): void;
  cut(): Promise<void>;
  heal(): Promise<void>;
  stop(): Promise<void>;
  /** Connections open right now. */
  openConnections(): number;
}

export async function startTcpProxy(targetPort: number, scheme = 'redis', targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; target: Socket }>();
  const held: (() => void)[] = [];
  let server: Server | undefined;
  let port = 0;
  let latencyMs = 0;
  let blackholed = false;
  const deliver = (to: Socket, chunk: Buffer) => {
    if (to.destroyed) return;
    if (latencyMs === 0) to.write(chunk);
    else setTimeout(() => to.destroyed || to.write(chunk), latencyMs);
  };
  const relay = (from: Socket, to: Socket) =>
    from.on('data', (chunk: Buffer) => {
      if (blackholed) held.push(() => deliver(to, chunk));
      else deliver(to, chunk);
    });
  const listen = () =>
    new Promise<void>((resolve) => {
      const listening = createServer((client) => {
        const target = connect(targetPort, targetHost);
        const pair = { client, target };
        pairs.add(pair);
        for (const socket of [client, target]) {
          socket.on('error', () => {});
          socket.on('close', () => {
            pairs.delete(pair);
            client.destroy();
            target.destroy();
          });
        }
        relay(client, target);
        relay(target, client);
      });
      server = listening;
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as { port: number }).port;
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const { client, target } of pairs) {
        client.destroy();
        target.destroy();
      }
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await listen();
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    setBlackhole: (on) => {
      blackholed = on;
      if (!on) for (const release of held.splice(0)) release();
    },
    resetAll: () => {
      for (const { client, target } of pairs) {
        client.resetAndDestroy();
        target.resetAndDestroy();
      }
    },
    cut: close,
    heal: listen,
    stop: close,
    openConnections: () => pairs.size,
  };
}
