// Overload is answered, not queued: when the event loop lags past the limit, requests get
// 503 SERVICE_OVERLOADED with Retry-After in the one error shape (@fastify/under-pressure measures;
// its event-loop-utilization check is a stub on Bun, so only the delay is used).
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { sendError } from '../http/error-handler.ts';
import { ServiceOverloaded } from '../http/errors.ts';

export async function registerOverloadProtection(
  app: FastifyInstance,
  maxEventLoopDelayMs: number,
  sampleIntervalMs = 1000,
) {
  if (maxEventLoopDelayMs <= 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    sampleInterval: sampleIntervalMs,
    pressureHandler: (request, reply, type, value) => {
      request.log.warn({ type, value }, 'overloaded: refusing a request');
      sendError(reply, request, new ServiceOverloaded());
    },
  });
}
