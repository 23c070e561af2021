// The one rule the whole deployment lives by: Σ (pool × replicas) + headroom ≤ what the pooler or the
// database allows. The doctor, `bun run dev` and the gateway's status data all count with this file.

/** Connections kept free for migrations, psql, an IDE and a second developer. */
export const BUDGET_HEADROOM = 3;

export interface PoolShare {
  /** Connections one replica's pool may open (undefined when the service has no database). */
  poolSize?: number;
  /** Copies of the service: the most an autoscaler may run, not today's count. */
  replicas: number;
}

/** Connections every pool of every replica may hold at once. */
export function pooledConnections(shares: PoolShare[]): number {
  return shares.reduce((sum, share) => sum + (share.poolSize ?? 0) * share.replicas, 0);
}

/** True when the pools plus the headroom do not fit into `connections`. */
export function overBudget(used: number, connections: number): boolean {
  return used + BUDGET_HEADROOM > connections;
}
