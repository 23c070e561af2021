// What an API operation can be answered besides what its worker documents, added to every operation of
// the merged document (openapi-document.ts), so the document allows every answer a client can really
// get. Each comes from one place in the code:
// - 400 VALIDATION_FAILED: percent-encoded paths (gateway/pipeline/api-route.ts) and bad parameters;
// - 401: a missing, invalid or revoked token (gateway/pipeline/token-check.ts, the workers' check);
// - 413, 415: where a body is taken (pipeline/body-limit.ts, shared/http/body-limit.ts, JSON only);
// - 429 + Retry-After: the gateway's limit per account or address on every API request (pipeline/rate-limit.ts);
// - 502, 504, and 503 + Retry-After: the hop to the worker (pipeline/forward.ts), an overloaded or
//   closing process, and the database: every API route reads or writes it, so its pool timeout
//   (DB_POOL_TIMEOUT) and outage (DB_UNAVAILABLE) can answer any of them;
// - 500 INTERNAL_ERROR: what no other code describes. Never intended, but a client must expect it.
// The gateway's liveness routes answer before any limit or worker, so they get none of these.
import { RETRY_AFTER_SECONDS } from '../shared/http/errors.ts';

type Responses = Record<string, unknown>;
export interface Operation {
  security?: unknown[];
  requestBody?: unknown;
  responses?: Responses;
  tags?: string[];
  operationId?: string;
}

/** Every answer of the gateway carries its request id (pipeline/request-id.ts), errors and successes alike. */
export const REQUEST_ID_HEADER = {
  description:
    'The id of this request (yours if you sent a plain one, else generated); it is in every log line about it',
  required: true,
  schema: { type: 'string' },
};
const requestIdRef = { $ref: '#/components/headers/RequestId' };

const retryAfter = {
  description: 'Seconds to wait before trying again',
  required: true,
  schema: { type: 'integer', minimum: 1 },
};

/** An error answer in the one shape, whose `code` is one of `codes`. */
function errorAnswer(description: string, codes: string[]) {
  const needsRetryAfter = codes.some((code) => code === 'RATE_LIMITED' || RETRY_AFTER_SECONDS[code] !== undefined);
  return {
    description,
    headers: { 'X-Request-Id': requestIdRef, ...(needsRetryAfter ? { 'Retry-After': retryAfter } : {}) },
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/ErrorBody' },
            { type: 'object', properties: { code: { type: 'string', enum: codes } } },
          ],
        },
      },
    },
  };
}

/** Reusable answers, under components.responses. */
export const STANDARD_RESPONSES = {
  BadInput: errorAnswer('Bad input: a parameter or the body fails its schema, or the body is not JSON', [
    'VALIDATION_FAILED',
    'INVALID_JSON',
  ]),
  Unauthenticated: errorAnswer('No valid access token: missing, invalid, expired, or its session has ended', [
    'AUTH_REQUIRED',
    'AUTH_TOKEN_INVALID',
    'AUTH_SESSION_REVOKED',
  ]),
  PayloadTooLarge: errorAnswer('The body is larger than 1 MiB', ['PAYLOAD_TOO_LARGE']),
  UnsupportedMediaType: errorAnswer('The body is not application/json', ['UNSUPPORTED_MEDIA_TYPE']),
  TooManyRequests: errorAnswer(
    'Too many requests for this account (a valid token) or from this address: wait Retry-After',
    ['RATE_LIMITED'],
  ),
  BadGateway: errorAnswer('The worker broke the connection before answering; the request may have been applied', [
    'UPSTREAM_BAD_RESPONSE',
  ]),
  Unavailable: errorAnswer(
    'Try again after Retry-After: no worker replica answers, a process is overloaded or shutting down, or the database is busy (pool timeout) or unreachable',
    ['UPSTREAM_UNAVAILABLE', 'SERVICE_OVERLOADED', 'SERVICE_CLOSING', 'DB_POOL_TIMEOUT', 'DB_UNAVAILABLE'],
  ),
  GatewayTimeout: errorAnswer('The worker did not answer within UPSTREAM_TIMEOUT', ['UPSTREAM_TIMEOUT']),
  InternalError: errorAnswer(
    'A failure nobody foresaw (a bug, or a fault no other code describes); details are in the logs under requestId',
    ['INTERNAL_ERROR'],
  ),
} as const;

type StandardResponse = keyof typeof STANDARD_RESPONSES;

/** Adds the standard answers to one operation of the merged document, in place. */
export function documentStandardAnswers(path: string, operation: Operation): void {
  if (!path.startsWith('/api/')) return;
  operation.responses ??= {};
  const responses = operation.responses;
  const use = (status: string, name: StandardResponse, over: 'keep-own' | 'replace') => {
    if (over === 'replace' || responses[status] === undefined)
      responses[status] = { $ref: `#/components/responses/${name}` };
  };
  use('400', 'BadInput', 'keep-own');
  if (operation.security && operation.security.length > 0) use('401', 'Unauthenticated', 'keep-own');
  if (operation.requestBody) {
    use('413', 'PayloadTooLarge', 'replace');
    use('415', 'UnsupportedMediaType', 'replace');
  }
  // Replaced even where the worker documents its own: these carry Retry-After and every code possible.
  use('429', 'TooManyRequests', 'replace');
  use('502', 'BadGateway', 'replace');
  use('503', 'Unavailable', 'replace');
  use('504', 'GatewayTimeout', 'replace');
  use('500', 'InternalError', 'replace');
  for (const response of Object.values(responses) as { $ref?: string; headers?: Record<string, unknown> }[]) {
    if (response.$ref) continue; // a shared answer, which names it itself
    response.headers = { 'X-Request-Id': requestIdRef, ...response.headers };
  }
}
