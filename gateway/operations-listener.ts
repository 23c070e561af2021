// Where the gateway serves its operational endpoints (readiness, metrics, status, docs, OpenAPI).
// In production they are internal: readiness fans out to every worker replica, /status.json and
// /openapi.json too, and metrics and status describe the deployment. So they get a listener of their
// own (OPS_HOST:OPS_PORT), which orchestrator probes and Prometheus reach and the public Service or
// ingress never routes to, and the public port answers them 404. Chosen over a bearer token: probes
// need no secret in their spec, and nothing internal is one leaked token away from the internet.
// In development and test they stay on the public port (the status page at :3000/status), unless
// OPS_PORT asks for the production layout.
import type { ServiceConfig } from '../shared/config-schema.ts';

/** The operations port in production when OPS_PORT is unset (the Prometheus exporters' range). */
export const DEFAULT_OPS_PORT = 9100;

export interface OperationsListener {
  host: string;
  port: number;
}

/** The operations listener to open, or undefined when the public port serves operations itself. */
export function operationsListenerFor(
  config: Pick<ServiceConfig, 'NODE_ENV' | 'HOST' | 'OPS_HOST' | 'OPS_PORT'>,
): OperationsListener | undefined {
  const port = config.OPS_PORT ?? (config.NODE_ENV === 'production' ? DEFAULT_OPS_PORT : undefined);
  if (port === undefined) return undefined;
  return { host: config.OPS_HOST ?? config.HOST, port };
}
