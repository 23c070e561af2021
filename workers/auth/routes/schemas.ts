export const credentialsProperties = {
  email: { type: 'string', minLength: 3, maxLength: 254, pattern: '^\\s*[^\\s@]+@[^\\s@]+\\s*$' },
  password: { type: 'string', minLength: 8, maxLength: 128 },
} as const;

export const authResponseSchema = {
  type: 'object',
  required: ['user', 'accessToken', 'refreshToken', 'expiresIn'],
  properties: {
    user: { $ref: 'PublicUser#' },
    accessToken: { type: 'string' },
    refreshToken: { type: 'string' },
    expiresIn: { type: 'integer', description: 'Seconds until the access token expires' },
  },
} as const;

export const errorResponses = {
  400: { $ref: 'ErrorBody#' },
  401: { $ref: 'ErrorBody#' },
  409: { $ref: 'ErrorBody#' },
  503: { $ref: 'ErrorBody#' },
} as const;
