// Renders every error of a service into the one shape { statusCode, code, error, message, requestId },
// logs the whole error with the request id, and hides internals on 5xx. Database pool exhaustion
// becomes a retryable 503 instead of a hang or a bare 500.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyDatabaseFailure } from '../db-failures.ts';
import {
  DbPoolTimeout,
  DbUnavailable,
  InternalError,
  InvalidJson,
  isCatalogueCode,
  PayloadTooLarge,
  RETRY_AFTER_SECONDS,
  RouteNotFound,
  UnsupportedMediaType,
  ValidationFailed,
} from './errors.ts';

export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
  requestId: string;
}

/** The JSON schema of ErrorBody, for route response schemas and the OpenAPI document. */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message', 'requestId'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
    requestId: { type: 'string' },
  },
} as const;

type ErrorLike = Partial<FastifyError> & { cause?: unknown; meta?: unknown };

/** Fastify's own error codes, mapped onto the catalogue. */
const FASTIFY_CODE_MAP: Record<string, () => FastifyError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new UnsupportedMediaType(),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new InvalidJson(),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new PayloadTooLarge(),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new InvalidJson(),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new InvalidJson(),
};

/** Maps anything thrown into an error from the catalogue (with a statusCode and a code). */
export function toCatalogueError(error: ErrorLike): FastifyError {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    return new ValidationFailed(
      `${where}${error.message?.startsWith(where) ? error.message.slice(where.length) : ` ${error.message}`}`,
    );
  }
  const mapped = error.code ? FASTIFY_CODE_MAP[error.code] : undefined;
  if (mapped) return mapped();
  if (error instanceof SyntaxError && (error as ErrorLike).statusCode === 400) return new InvalidJson();
  const dbFailure = classifyDatabaseFailure(error);
  if (dbFailure === 'pool-timeout') return new DbPoolTimeout();
  if (dbFailure === 'unavailable') return new DbUnavailable();
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500 && error.code && !error.code.startsWith('FST_')) return error as FastifyError;
  if (status >= 400 && status < 500) {
    // A plugin's 4xx without a catalogue code: keep the status, give it a stable code.
    const generic = new Error(error.message) as FastifyError;
    generic.statusCode = status;
    generic.code = (STATUS_CODES[status] ?? 'BAD_REQUEST').toUpperCase().replace(/[^A-Z]+/g, '_');
    return generic;
  }
  // Ours, a 5xx included (an upstream's timeout or bad answer); anything else with a 5xx reveals nothing.
  if (status >= 500 && error.code && isCatalogueCode(error.code)) return error as FastifyError;
  return new InternalError();
}

/** The one error body for a catalogue error, and the Retry-After to send with it, if any. */
export function renderError(error: FastifyError, requestId: string): { body: ErrorBody; retryAfter?: number } {
  const statusCode = error.statusCode ?? 500;
  return {
    body: {
      statusCode,
      code: error.code,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message: error.message,
      requestId,
    },
    retryAfter: RETRY_AFTER_SECONDS[error.code],
  };
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: FastifyError): FastifyReply {
  const { body, retryAfter } = renderError(error, String(request.id));
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: ErrorLike, request, reply) => {
    const rendered = toCatalogueError(error);
    const status = rendered.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error, code: rendered.code }, 'request failed');
    else request.log.info({ code: rendered.code, message: rendered.message }, 'request refused');
    return sendError(reply, request, rendered);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, request, new RouteNotFound(request.method, request.url.split('?')[0])),
  );
}
