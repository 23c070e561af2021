// Several "hosts" on one machine, for tests that need a real network between processes: one Linux
// network namespace per host, each with one veth cable plugged into a bridge (the "switch") that lives
// in a namespace of its own. Cutting a host pulls its cable at the switch: packets to and from it
// vanish (no reset, no refusal), as when a machine or its link dies.
//
// Nothing is added to the root namespace: the veth pairs are created inside the run's namespaces and
// the addresses exist only there, so parallel runs (each its own namespaces, named after its pid)
// cannot collide even though they use the same private subnet. Needs root and iproute2's `ip`.
import { spawnSync } from 'node:child_process';
import { isRoot } from '../stack/processes.ts';

/** Every namespace a run makes is named `<NAMESPACE_PREFIX><pid>-<host>`; leftovers are recognised by it. */
export const NAMESPACE_PREFIX = 'pwmh';
/** A private /24 that exists only inside a run's namespaces. */
const SUBNET = '10.203.0';
const BRIDGE = 'br0';
/** The host's end of its cable, inside its own namespace. */
const HOST_INTERFACE = 'lan0';

export interface Host {
  name: string;
  namespace: string;
  address: string;
}

export interface HostNetwork<Name extends string> {
  hosts: Record<Name, Host>;
  /** The command prefix that runs a program inside a host's namespace. */
  runIn(host: Name): string[];
  /** Pulls the host's cable at the switch: its packets are dropped, its connections hang. */
  cut(host: Name): void;
  /** Plugs it back in; addresses and routes are kept, so open connections resume. */
  restore(host: Name): void;
  /** Kills whatever still runs in the namespaces and deletes them (the cables go with them). */
  destroy(): void;
}

function ip(args: string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.error) throw new Error(`ip ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Throws with a clear message when hosts cannot be built here: multi-host tests must fail loudly,
 * never skip, or a machine without the rights would pass them silently.
 */
export function assertCanBuildHosts(): void {
  if (!isRoot()) {
    throw new Error('multi-host tests build network namespaces and need root (run `bun test` as root)');
  }
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `multi-host tests need iproute2's \`ip\` with network namespaces: ${probe.error?.message ?? probe.stderr}`,
    );
  }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function deleteNamespace(namespace: string): void {
  // `ip netns del` only unmounts the name: a namespace lives on while a process is in it, and its
  // cables and addresses with it. So its processes go first.
  const pids = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split('\n').map(Number).filter(Boolean)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', namespace]);
}

/** Deletes namespaces a crashed run left behind (its pid is gone, or is ours from an earlier life). */
export function removeLeftoverHosts(): string[] {
  const removed: string[] = [];
  for (const line of ip(['netns', 'list']).split('\n')) {
    const match = new RegExp(`^(${NAMESPACE_PREFIX}(\\d+)-\\S+)`).exec(line);
    if (!match?.[1] || !match[2]) continue;
    const pid = Number(match[2]);
    if (pid !== process.pid && isAlive(pid)) continue; // a run going on in parallel
    deleteNamespace(match[1]);
    removed.push(match[1]);
  }
  return removed;
}

/**
 * Builds one namespace per host name, cabled to one switch, with addresses 10.203.0.<10 + i>.
 * On any failure half-way, what was built is deleted before the error is thrown.
 */
export function buildHostNetwork<Name extends string>(names: readonly Name[]): HostNetwork<Name> {
  assertCanBuildHosts();
  removeLeftoverHosts();
  const tag = `${NAMESPACE_PREFIX}${process.pid}`;
  const lan = `${tag}-lan`;
  const created: string[] = [];
  const hosts = {} as Record<Name, Host>;
  const destroy = () => {
    for (const namespace of created.splice(0).reverse()) deleteNamespace(namespace);
  };
  try {
    ip(['netns', 'add', lan]);
    created.push(lan);
    ip(['-n', lan, 'link', 'add', 'name', BRIDGE, 'type', 'bridge', 'forward_delay', '0']);
    ip(['-n', lan, 'link', 'set', 'dev', BRIDGE, 'up']);
    names.forEach((name, index) => {
      const namespace = `${tag}-${name}`;
      const address = `${SUBNET}.${10 + index}`;
      ip(['netns', 'add', namespace]);
      created.push(namespace);
      // Created inside the switch's namespace with its peer straight in the host's: never in the root one.
      ip(['-n', lan, 'link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', HOST_INTERFACE, 'netns', namespace]);
      ip(['-n', lan, 'link', 'set', 'dev', name, 'master', BRIDGE, 'up']);
      ip(['-n', namespace, 'link', 'set', 'dev', 'lo', 'up']);
      ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', HOST_INTERFACE]);
      ip(['-n', namespace, 'link', 'set', 'dev', HOST_INTERFACE, 'up']);
      hosts[name] = { name, namespace, address };
    });
  } catch (error) {
    destroy();
    throw error;
  }
  const switchPort = (host: Name, state: 'up' | 'down') => ip(['-n', lan, 'link', 'set', 'dev', host, state]);
  return {
    hosts,
    runIn: (host) => ['ip', 'netns', 'exec', hosts[host].namespace],
    cut: (host) => void switchPort(host, 'down'),
    restore: (host) => void switchPort(host, 'up'),
    destroy,
  };
}
