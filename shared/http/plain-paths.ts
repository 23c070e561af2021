// API paths are plain ASCII without percent-encoding: no route needs more, and a path that decodes
// differently at two hops (the gateway compares it, the worker's router decodes it) is a way around
// per-route limits. The gateway and every worker refuse such paths with the same rule.
export const ENCODED_PATH_MESSAGE = 'Percent-encoded characters are not accepted in API paths';

export const hasEncodedCharacters = (pathname: string) => pathname.includes('%');
