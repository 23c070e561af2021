// The yardstick for the gateway's cost: the least a proxy can do on Bun (Bun.serve + fetch, no
// routing, no auth, no headers work). Run as its own process: bun minimal-forwarder.ts PORT TARGET
const [port, target] = process.argv.slice(2);
if (!port || !target) throw new Error('usage: minimal-forwarder.ts PORT TARGET_BASE_URL');
Bun.serve({
  port: Number(port),
  hostname: '127.0.0.1',
  fetch(request) {
    const url = new URL(request.url);
    return fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
  },
});
