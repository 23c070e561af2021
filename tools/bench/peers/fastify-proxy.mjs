// Peer for scenario 5: what a Fastify user would put in front instead, @fastify/http-proxy in its home
// runtime (Node, where its default transport is undici; on Bun that transport answers 500 to
// everything, see FACTS.md). Plugin defaults, logging off: a plain reverse proxy.
// Run as its own process: node fastify-proxy.mjs PORT UPSTREAM_BASE_URL
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const [port, upstream] = process.argv.slice(2);
if (!port || !upstream) throw new Error('usage: fastify-proxy.mjs PORT UPSTREAM_BASE_URL');
const app = Fastify({ logger: false });
await app.register(proxy, { upstream });
await app.listen({ port: Number(port), host: '127.0.0.1' });
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => app.close().then(() => process.exit(0)));
