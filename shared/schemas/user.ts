// The public face of a user: what any response may carry. No hash, no token material.
export const publicUserSchema = {
  $id: 'PublicUser',
  type: 'object',
  required: ['id', 'email', 'name', 'role', 'status', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    email: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: ['USER', 'ADMIN'] },
    status: { type: 'string', enum: ['ACTIVE', 'DISABLED'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** Kept under its old name for the routes that import it from here; defined once in id.ts. */
export { idParamsSchema as uuidParamsSchema } from './id.ts';
