// A TCP proxy for tests that need a network between a service and Redis: it can add latency (one
// process further away than another) or cut the link (connections dropped, new ones refused) and heal it.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  url: string;
  /** Delay, in ms, for every chunk in either direction (order is kept). */
  setLatency(ms: number): void;
  cut(): Promise<void>;
  heal(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, scheme = 'redis'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let latencyMs = 0;
  const relay = (from: Socket, to: Socket) =>
    from.on('data', (chunk) => {
      if (latencyMs === 0) to.write(chunk);
      else setTimeout(() => to.write(chunk), latencyMs);
    });
  const listen = () =>
    new Promise<void>((resolve) => {
      const listening = createServer((client) => {
        const target = connect(targetPort, '127.0.0.1');
        for (const socket of [client, target]) {
          sockets.add(socket);
          socket.on('error', () => {});
          socket.on('close', () => {
            sockets.delete(socket);
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
      for (const socket of sockets) socket.destroy();
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
    cut: close,
    heal: listen,
    stop: close,
  };
}
