// The error catalogue of the API, one row per code: HTTP status and a default
// sentence (like fastify's lib/errors.js or OpenSSH's ssherr.c). A JmpError
// carries a code of this table; its message says what to do, or the default.
export const ERRORS = {
  bad_request: { status: 400, message: 'the request is not valid' },
  unauthorized: { status: 401, message: 'authentication required' },
  totp_required: { status: 401, message: 'a TOTP code is required' },
  forbidden: { status: 403, message: 'not allowed' },
  not_found: { status: 404, message: 'not found' },
  conflict: { status: 409, message: 'conflicts with the current state' },
  too_large: { status: 413, message: 'the request body is too large' },
  locked: { status: 423, message: 'locked; try again later' },
  too_many_requests: { status: 429, message: 'too many requests; try again later' },
  internal: { status: 500, message: 'internal error' },
  unavailable: { status: 503, message: 'temporarily unavailable; try again shortly' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The HTTP status of an error code. */
export function errorStatus(code: ErrorCode): number {
  return ERRORS[code].status;
}

export class JmpError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'JmpError';
    this.status = ERRORS[code].status;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}
