// Where the gateway finds each worker, derived from the service registry: the public path prefix,
// and the replicas behind `<NAME>_SERVICE_URL` (default: the worker's local port).
import type { ServiceConfig } from '../shared/config-schema.ts';
import { portKey, SERVICES, type ServiceRegistry, serviceSetting, urlKey, workerNames } from '../shared/services.ts';
import { ReplicaSet, type ReplicaSetOptions } from './replica-set.ts';

export interface Upstream {
  /** The worker's registry name, used in errors, logs and metrics, e.g. `client`. */
  name: string;
  /** Requests under /api/v1/<prefix> go to this worker. */
  path: string;
  /** `path` + `/`, and the metrics' route label `path` + `/*`: built once, not on every request. */
  below: string;
  route: string;
  replicas: ReplicaSet;
}

/** One upstream per worker of the registry, in registry order. */
export function upstreamsFrom(
  config: ServiceConfig,
  registry: ServiceRegistry = SERVICES,
  options: ReplicaSetOptions = {},
): Upstream[] {
  return workerNames(registry).map((name) => {
    const address =
      serviceSetting<string>(config, urlKey(name)) ??
      `http://127.0.0.1:${serviceSetting<number>(config, portKey(name)) ?? registry[name]?.defaultPort}`;
    return upstreamAt(name, `/api/v1/${registry[name]?.pathPrefix}`, new ReplicaSet(name, address, options));
  });
}

export function upstreamAt(name: string, path: string, replicas: ReplicaSet): Upstream {
  return { name, path, below: `${path}/`, route: `${path}/*`, replicas };
}

/** The upstream serving `pathname`, if it is API traffic. */
export function upstreamFor(upstreams: Upstream[], pathname: string): Upstream | undefined {
  return upstreams.find((upstream) => pathname === upstream.path || pathname.startsWith(upstream.below));
}
