import type { FastifyInstance } from 'fastify';
import type { CachedSessionStanding } from '../../../shared/repositories/cached-session-standing.ts';
import type { SessionRepository } from '../../../shared/repositories/session-repository.ts';

/**
 * Ends the caller's login session (its refresh family), and with it the session's access tokens: every
 * worker's next check sees it. Checks the token's signature only, not whether its session is live, so a
 * repeated logout (its first answer lost) is 204 again, not 401.
 */
export function logoutRoute(
  app: FastifyInstance,
  deps: { sessions: SessionRepository; standing: CachedSessionStanding },
) {
  app.post(
    '/api/v1/auth/logout',
    {
      onRequest: app.authenticateSignature,
      schema: {
        summary: 'End the current session: its refresh and access tokens stop working',
        operationId: 'logOut',
        security: [{ bearerAuth: [] }],
        response: { 204: { type: 'null' }, 401: { $ref: 'ErrorBody#' } },
      },
    },
    async (request, reply) => {
      const { sid, sub } = request.user;
      await deps.sessions.revokeFamily(sid, sub);
      await deps.standing.forgetUser(sub);
      return reply.code(204).send();
    },
  );
}
