export const clientSchema = {
  $id: 'Client',
  type: 'object',
  required: ['id', 'ownerId', 'name', 'email', 'phone', 'company', 'status', 'notes', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    ownerId: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    email: { type: ['string', 'null'] },
    phone: { type: ['string', 'null'] },
    company: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['ACTIVE', 'INACTIVE', 'LEAD'] },
    notes: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** Fields a caller may write. id, ownerId and timestamps are not here, so sending them is a 400. */
export const writableClientProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  email: { type: ['string', 'null'], maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' },
  phone: { type: ['string', 'null'], maxLength: 50 },
  company: { type: ['string', 'null'], maxLength: 200 },
  status: { type: 'string', enum: ['ACTIVE', 'INACTIVE', 'LEAD'] },
  notes: { type: ['string', 'null'], maxLength: 5000 },
} as const;

export const clientErrorResponses = {
  400: { $ref: 'ErrorBody#' },
  401: { $ref: 'ErrorBody#' },
  403: { $ref: 'ErrorBody#' },
  404: { $ref: 'ErrorBody#' },
  503: { $ref: 'ErrorBody#' },
} as const;
