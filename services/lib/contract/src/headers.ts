// HTTP headers of the API contract that are not in the zod schemas.

/**
 * jmp-api sets this header (value "1") on every 503 it answers itself: a
 * dependency (database, store) is down. Agents decide from their snapshot only
 * on this marker or on no answer at all; any other error answers one request.
 */
export const UNAVAILABLE_HEADER = 'JMP-Unavailable';

/**
 * jmp-api names the host's current policy version (its snapshot ETag) in this
 * header of every PAM answer: an agent whose snapshot has another one pulls
 * at once, so a revocation reaches it before the next scheduled pull.
 */
export const POLICY_VERSION_HEADER = 'JMP-Policy-Version';
