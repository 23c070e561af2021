// Stage: liveness is this process answering, so the gateway says so itself without asking anything
// behind it (the same body as the operations app's /health/live).
import type { Stage } from './pipeline.ts';

const LIVENESS_PATHS = new Set(['/health', '/health/live']);

export const livenessStage: Stage = {
  name: 'liveness',
  handle(context) {
    if (context.request.method !== 'GET' || !LIVENESS_PATHS.has(context.url.pathname)) return undefined;
    return Response.json({ status: 'ok', service: 'gateway' });
  },
};
