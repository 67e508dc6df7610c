// Errors carry a machine code, an HTTP status and a sentence a user can act on.
export type ErrorCode =
  | 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict'
  | 'locked' | 'too_many_requests' | 'unavailable' | 'internal' | 'totp_required';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400, unauthorized: 401, totp_required: 401, forbidden: 403, not_found: 404,
  conflict: 409, locked: 423, too_many_requests: 429, internal: 500, unavailable: 503,
};

export class JmpError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCode, message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = 'JmpError';
    this.status = STATUS[code];
  }
}

export interface ErrorBody { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } }

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
