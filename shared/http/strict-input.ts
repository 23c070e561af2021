// Input no route may receive, refused once in the service base (create-service-app.ts) for every
// route of every service, before schema validation and before any handler runs.
//
// NUL (U+0000): PostgreSQL text cannot hold it, so a string carrying one failed in the driver or the
// server and came back as 500 INTERNAL_ERROR. It is refused in params, query and body (values and keys,
// at any depth) with 400 VALIDATION_FAILED. A hook rather than a `pattern` on each string schema:
// a pattern has to be remembered on every string property of every route (auth's, and tomorrow's),
// while this covers them all, including strings no schema describes.
import type { FastifyInstance } from 'fastify';
import { ValidationFailed } from './errors.ts';

const NUL = '\u0000';

/** Where the first NUL character sits in `value` (e.g. `body/notes`), or undefined if there is none. */
export function findNulCharacter(value: unknown, where: string): string | undefined {
  // Iterative, so a deeply nested body cannot overflow the stack.
  const pending: [unknown, string][] = [[value, where]];
  while (pending.length > 0) {
    const [current, path] = pending.pop() as [unknown, string];
    if (typeof current === 'string') {
      if (current.includes(NUL)) return path;
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes(NUL)) return path;
        pending.push([child, `${path}/${key}`]);
      }
    }
  }
  return undefined;
}

export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const where =
      findNulCharacter(request.params, 'params') ??
      findNulCharacter(request.query, 'querystring') ??
      findNulCharacter(request.body, 'body');
    if (where) throw new ValidationFailed(`${where} must not contain NUL (U+0000) characters`);
  });
}
