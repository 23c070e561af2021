// A door into a host's network namespace for the test process, which has no address there: run inside
// the namespace, it accepts connections on a Unix socket (files cross namespaces, addresses do not)
// and pipes each one to TARGET (host:port) as seen from inside. The test then reads the gateway's
// /status.json and /metrics with `fetch(url, { unix: SOCKET })`.
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const { SOCKET, TARGET } = process.env;
const [host, port] = (TARGET ?? '').split(':');
if (!SOCKET || !host || !port) throw new Error('namespace-relay.ts needs SOCKET and TARGET=host:port');

rmSync(SOCKET, { force: true });
const server = createServer((fromTest) => {
  const toTarget = connect(Number(port), host);
  fromTest.pipe(toTarget).pipe(fromTest);
  fromTest.on('error', () => toTarget.destroy());
  toTarget.on('error', () => fromTest.destroy());
});
server.listen(SOCKET, () => process.stdout.write('listening\n'));
// Ends with its standard input (the test closing it, or the test process dying).
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  rmSync(SOCKET, { force: true });
  process.exit(0);
});
