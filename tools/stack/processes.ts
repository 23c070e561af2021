// Small helpers for the real servers the dev runner and the test run start themselves.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Ports for processes that bind them only later (a runner that first starts a database, migrates and
 * seeds). findFreePort's ports come from the kernel's ephemeral range, where any outgoing connection
 * opened meanwhile can be given one and the process then fails to listen; these are taken below it.
 * `offsets` are further ports that must be free for each (a second replica at port + 100), and no two
 * chosen ports come within the largest offset of each other.
 */
export async function findPortsToBindLater(count: number, offsets: number[] = []): Promise<number[]> {
  const spread = Math.max(0, ...offsets);
  const floor = 10_000;
  const ceiling = ephemeralPortRangeStart() - spread;
  // Room for `count` ports kept apart by `spread`, with plenty to spare for ports already in use.
  if (ceiling - floor < 4 * count * (2 * spread + 1)) {
    throw new Error(
      `no room below the ephemeral port range (it starts at ${ephemeralPortRangeStart()}) for ${count} ports`,
    );
  }
  // Test files run one after another in one process (bun test), so nothing else picks ports meanwhile.
  const chosen: number[] = [];
  for (let attempt = 0; chosen.length < count; attempt++) {
    if (attempt >= 1_000) throw new Error(`no ${count} free ports found below ${ceiling + spread} in 1,000 tries`);
    const port = floor + Math.floor(Math.random() * (ceiling - floor));
    if (chosen.some((other) => Math.abs(other - port) <= spread)) continue;
    let free = await canListen(port);
    for (const offset of offsets) free &&= await canListen(port + offset);
    if (free) chosen.push(port);
  }
  return chosen;
}

/** True when a listener can bind 127.0.0.1:`port` right now (nothing listens there, no socket holds it). */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The low end of the kernel's ephemeral port range (Linux; 32768 where it cannot be read). A port
 * below it is never given to an outgoing connection, so one that is free now stays free until the
 * process meant for it binds it, however many connections open meanwhile.
 */
export function ephemeralPortRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const finish = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export async function waitForPort(
  port: number,
  what: string,
  timeoutMs = 10_000,
  child?: ChildProcess,
  host = '127.0.0.1',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode} before listening`);
    if (await isPortOpen(port, host)) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

/** Asks a child to stop, and kills it if it has not exited in time. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 3000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The path of a system binary (PATH, then the sbin folders Debian puts daemons in), if installed. */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin'])) {
    const candidate = `${dir}/${name}`;
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const isRoot = () => process.getuid?.() === 0;

/**
 * Daemons that refuse to run as root (PgBouncer) run as `postgres` instead. Their working folder and
 * the files in it (configuration, passwords) are handed to that user and closed to everyone else:
 * a world-writable folder would let any local user swap the configuration or the auth file.
 */
export function handToUnprivilegedUser(dir: string): string | undefined {
  if (!isRoot()) return undefined;
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  } catch {
    throw new Error(
      'running as root needs a `postgres` system user to run PgBouncer as (apt-get install pgbouncer creates it)',
    );
  }
  for (const name of readdirSync(dir)) chownSync(join(dir, name), uid, gid);
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  return 'postgres';
}

/** Keeps the last lines a child printed, to quote when it fails. */
export function collectOutput(child: ChildProcess, keep = 40): () => string {
  const lines: string[] = [];
  const take = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > keep) lines.splice(0, lines.length - keep);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return () => lines.join('\n');
}
