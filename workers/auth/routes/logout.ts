import type { FastifyInstance } from 'fastify';
import type { SessionRepository } from '../../../shared/repositories/session-repository.ts';

/** Registered inside the authenticated scope. Ends the caller's login session (its refresh family). */
export function logoutRoute(app: FastifyInstance, deps: { sessions: SessionRepository }) {
  app.post(
    '/api/v1/auth/logout',
    {
      schema: {
        summary: 'End the current session: its refresh tokens stop working',
        security: [{ bearerAuth: [] }],
        response: { 204: { type: 'null' }, 401: { $ref: 'ErrorBody#' } },
      },
    },
    async (request, reply) => {
      const { sid, sub } = request.user;
      if (sid) await deps.sessions.revokeFamily(sid, sub);
      return reply.code(204).send();
    },
  );
}
