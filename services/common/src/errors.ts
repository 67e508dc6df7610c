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
