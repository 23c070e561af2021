// File descriptors for many concurrent connections. Every connection costs a descriptor in the load
// generator (this process) and one more in the gateway, which also holds its sockets to the worker;
// services the bench starts inherit this process's limit. Debian's default soft limit is 1,024, far
// below 10,000 connections, while the hard limit is usually much higher: raise the soft limit up to
// the hard one (prlimit(1) on our own pid: no privilege needed below the hard limit).
import { readFileSync } from 'node:fs';

export interface OpenFilesLimit {
  soft: number;
  hard: number;
}

export function openFilesLimit(pid: number | 'self' = 'self'): OpenFilesLimit {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((row) => row.startsWith('Max open files'));
  const [soft, hard] = (line?.match(/(\d+|unlimited)\s+(\d+|unlimited)/)?.slice(1) ?? []).map((value) =>
    value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value),
  );
  return { soft: soft ?? 1024, hard: hard ?? 1024 };
}

/**
 * Makes sure this process (and what it starts from now on) may open `needed` descriptors, raising the
 * soft limit if the hard one allows. Returns the limit in force afterwards; the caller lowers its
 * connection count if that is still short.
 */
export function ensureOpenFiles(needed: number): OpenFilesLimit {
  const limit = openFilesLimit();
  if (limit.soft >= needed) return limit;
  const target = Math.min(limit.hard, Math.max(needed, limit.soft));
  const raised = Bun.spawnSync(['prlimit', `--pid=${process.pid}`, `--nofile=${target}:${limit.hard}`], {
    stdout: 'ignore',
    stderr: 'ignore',
  });
  return raised.exitCode === 0 ? openFilesLimit() : limit;
}
