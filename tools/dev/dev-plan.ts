// What `bun run dev` starts, as a pure function of the configuration and the service registry: one
// process per replica of every service, each with its port, and the gateway told every replica's
// address. Replica i of a service listens on `<NAME>_PORT + 100 × i` (3003, 3103, 3203 for the
// client worker by default): a service's replicas never meet another service's ports as long as the
// base ports are less than 100 apart, and the plan refuses any collision it finds anyway.
import type { ServiceConfig } from '../../shared/config-schema.ts';
import {
  portKey,
  replicasKey,
  SERVICES,
  type ServiceRegistry,
  serviceSetting,
  urlKey,
  workerNames,
} from '../../shared/services.ts';

export const REPLICA_PORT_STRIDE = 100;

export interface PlannedProcess {
  /** `client` for a single replica, `client#2` for the second of several. */
  label: string;
  service: string;
  entry: string;
  port: number;
  /** Variables this process gets on top of the runner's environment. */
  env: Record<string, string>;
}

export class DevPlanError extends Error {}

export function planDevProcesses(config: ServiceConfig, registry: ServiceRegistry = SERVICES): PlannedProcess[] {
  const workers = new Set(workerNames(registry));
  const processes: PlannedProcess[] = [];
  const gatewayEnv: Record<string, string> = {};
  for (const [name, service] of Object.entries(registry)) {
    // The gateway itself runs once here; GATEWAY_REPLICAS is its share of rate limits elsewhere.
    const count = workers.has(name) ? (serviceSetting<number>(config, replicasKey(name)) ?? 1) : 1;
    const base = serviceSetting<number>(config, portKey(name)) ?? service.defaultPort;
    const urls: string[] = [];
    for (let index = 0; index < count; index++) {
      const port = base + REPLICA_PORT_STRIDE * index;
      urls.push(`http://127.0.0.1:${port}`);
      processes.push({
        label: count > 1 ? `${name}#${index + 1}` : name,
        service: name,
        entry: `${service.dir}/server.ts`,
        port,
        env: { [portKey(name)]: String(port) },
      });
    }
    if (workers.has(name)) gatewayEnv[urlKey(name)] = urls.join(',');
  }
  for (const process of processes) if (!workers.has(process.service)) Object.assign(process.env, gatewayEnv);
  const seen = new Map<number, string>();
  for (const process of processes) {
    const other = seen.get(process.port);
    if (other) {
      throw new DevPlanError(
        `Port ${process.port} would be used by both ${other} and ${process.label}: keep the services' base ports (${Object.keys(registry).map(portKey).join(', ')}) at least ${REPLICA_PORT_STRIDE} apart from any replica's port.`,
      );
    }
    if (process.port > 65535) throw new DevPlanError(`${process.label} would need port ${process.port}.`);
    seen.set(process.port, process.label);
  }
  return processes;
}
