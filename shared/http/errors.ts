// The one catalogue of error codes. Every error a service answers with is one of these (or a
// Fastify/plugin error mapped onto one in error-handler.ts), rendered as
// { statusCode, code, error, message, requestId }.
import createFastifyError from '@fastify/error';

const catalogueCodes = new Set<string>();
/** @fastify/error's createError, remembering the code: what the catalogue holds is known (isCatalogueCode). */
function createError<C extends string, SC extends number>(code: C, message: string, statusCode: SC) {
  catalogueCodes.add(code);
  return createFastifyError(code, message, statusCode);
}

export const ValidationFailed = createError('VALIDATION_FAILED', '%s', 400);
export const InvalidJson = createError('INVALID_JSON', 'The request body is not valid JSON', 400);
export const UnsupportedMediaType = createError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json', 415);
export const PayloadTooLarge = createError('PAYLOAD_TOO_LARGE', 'The request body is too large', 413);
export const RouteNotFound = createError('NOT_FOUND', 'Route %s %s not found', 404);
export const ResourceNotFound = createError('RESOURCE_NOT_FOUND', '%s not found', 404);

export const AuthRequired = createError('AUTH_REQUIRED', 'A Bearer access token is required', 401);
export const AuthTokenInvalid = createError('AUTH_TOKEN_INVALID', 'The access token is invalid or expired', 401);
export const AuthSessionRevoked = createError(
  'AUTH_SESSION_REVOKED',
  'The session of this access token has ended (logout, password change or disabled account); log in again',
  401,
);
export const AuthInvalidCredentials = createError('AUTH_INVALID_CREDENTIALS', 'Email or password is incorrect', 401);
export const AuthEmailTaken = createError('AUTH_EMAIL_TAKEN', 'An account with this email already exists', 409);
export const AuthAccountDisabled = createError('AUTH_ACCOUNT_DISABLED', 'This account is disabled', 403);
export const AuthRefreshInvalid = createError(
  'AUTH_REFRESH_INVALID',
  'The refresh token is invalid, expired or revoked',
  401,
);
export const AuthRefreshReused = createError(
  'AUTH_REFRESH_REUSED',
  'This refresh token was already used; the session has been ended for safety',
  401,
);
export const AuthPasswordIncorrect = createError('AUTH_PASSWORD_INCORRECT', 'The current password is incorrect', 401);
export const Forbidden = createError('FORBIDDEN', 'You are not allowed to do this', 403);
export const RateLimited = createError('RATE_LIMITED', 'Too many requests, retry after %s seconds', 429);

// Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header): the draft's 422 and 409.
export const IdempotencyKeyReused = createError(
  'IDEMPOTENCY_KEY_REUSED',
  'This Idempotency-Key was already used with a different request body; use a new key for a new request',
  422,
);
export const IdempotencyKeyInProgress = createError(
  'IDEMPOTENCY_KEY_IN_PROGRESS',
  'A request with this Idempotency-Key is still being processed. Retry shortly with the same key.',
  409,
);

export const DbPoolTimeout = createError(
  'DB_POOL_TIMEOUT',
  'The database is busy: no connection became free in time. Retry shortly.',
  503,
);
export const DbUnavailable = createError('DB_UNAVAILABLE', 'The database is unavailable. Retry shortly.', 503);
export const UpstreamUnavailable = createError('UPSTREAM_UNAVAILABLE', 'The %s service is unavailable', 503);
export const UpstreamBadResponse = createError('UPSTREAM_BAD_RESPONSE', 'The %s service answered badly', 502);
export const UpstreamTimeout = createError('UPSTREAM_TIMEOUT', 'The %s service did not answer in time', 504);
export const ServiceOverloaded = createError('SERVICE_OVERLOADED', 'The service is overloaded. Retry shortly.', 503);
export const NotReady = createError('NOT_READY', 'Not ready: %s', 503);
export const ServiceClosing = createError('SERVICE_CLOSING', 'The service is shutting down. Retry shortly.', 503);
export const InternalError = createError('INTERNAL_ERROR', 'Something went wrong on our side', 500);

/** Seconds a client should wait before retrying each retryable code (sent as Retry-After). */
export const RETRY_AFTER_SECONDS: Record<string, number> = {
  DB_POOL_TIMEOUT: 1,
  DB_UNAVAILABLE: 2,
  UPSTREAM_UNAVAILABLE: 2,
  SERVICE_CLOSING: 2,
  NOT_READY: 5,
  SERVICE_OVERLOADED: 1,
  IDEMPOTENCY_KEY_IN_PROGRESS: 1,
};

/** Whether `code` is one of this catalogue's: such an error may be answered as it is, 5xx included. */
export const isCatalogueCode = (code: string): boolean => catalogueCodes.has(code);
