/** An incoming x-request-id is kept only if it is short and plain; anything else gets a fresh id. */
export const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
