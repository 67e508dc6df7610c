// The v1 agent line protocol (docs/agent-protocol.md): encoding and decoding
// of single request/response lines, and a bounded line reader for socket
// chunks. Pure: no I/O, no clocks, no globals. The jmp-agent uses it as its
// server side; tests and `jmp-agent doctor` use it as a client.
//
// Decisions the spec leaves open, made here:
// - Values are byte strings on the wire; this module exposes them as strings
//   decoded as UTF-8. A value that is not well-formed UTF-8 is `bad_request`
//   (every value the C side sends — user, service, rhost, tty, ticket — is
//   ASCII in practice). `percentEncode`/`percentDecode` work on raw bytes.
// - The op/status word follows the key syntax (`[a-z0-9_]{1,32}`).
// - Exactly one SP separates words; no leading or trailing space.
// - A field that a message type requires and that is missing or empty is
//   `bad_request`; `pid` must be decimal digits.
// - An unknown `mode` value in a response is ignored (mode left undefined),
//   like an unknown key.
// - An `error` response without `code` is still an error (pam_jmp denies it);
//   a `ticket` response without `ticket` is bad_request. The values of `mode`,
//   `code`, `version` and `uid` are at most MAX_SHORT_VALUE_BYTES (pam_jmp's
//   buffers). test/golden/agent-protocol-v1.txt pins what both sides accept.

/** The only version this module speaks. */
export const VERSION = 'v1';

/** Largest line in bytes, including the terminating `\n`. */
export const MAX_LINE_BYTES = 8192;

/** Longest key (and op/status word). */
export const MAX_KEY_LENGTH = 32;

/** Longest decoded value, in bytes, of the response fields `mode`, `code`, `version`, `uid`. */
export const MAX_SHORT_VALUE_BYTES = 63;

export const REQUEST_OPS = [
  'auth',
  'account',
  'sudo',
  'su',
  'session_open',
  'session_close',
  'ping',
  'ticket',
  'db',
] as const;
export type RequestOp = (typeof REQUEST_OPS)[number];

/** Ops only uid 0 may ask (the agent answers `error code=forbidden` otherwise). */
export const PAM_OPS: ReadonlySet<RequestOp> = new Set([
  'auth',
  'account',
  'sudo',
  'su',
  'session_open',
  'session_close',
]);

export const RESPONSE_STATUSES = ['allow', 'deny', 'error', 'pong', 'ticket', 'db'] as const;
export type ResponseStatus = (typeof RESPONSE_STATUSES)[number];

export const AGENT_MODES = ['online', 'offline', 'default'] as const;
/** How the agent reached a decision: jmp-api, cached snapshot, or configured default. */
export type AgentMode = (typeof AGENT_MODES)[number];

/** Codes the agent sends in `v1 error code=…`. */
export const WIRE_ERROR_CODES = ['bad_request', 'too_long', 'forbidden', 'unknown_op', 'internal'] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/**
 * Why a line could not be encoded or decoded. The first three are also wire
 * codes, so a server can answer `v1 error code=${err.code}` directly;
 * `unknown_status` only arises when decoding a response.
 */
export type ProtocolErrorCode = 'bad_request' | 'too_long' | 'unknown_op' | 'unknown_status';

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** All fields of a line, known and unknown, decoded. Null prototype: keys like `__proto__` are plain data. */
export type Fields = Readonly<Record<string, string>>;

// ---------------------------------------------------------------------------
// Values: percent-encoding

const KEY_RE = /^[a-z0-9_]{1,32}$/;
const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';
const LONE_SURROGATE_RE = /\p{Cs}/u;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True for `[a-z0-9_]{1,32}`: the syntax of keys and of op/status words. */
export function isKey(s: string): boolean {
  return KEY_RE.test(s);
}

/** Percent-encodes bytes: unreserved bytes as themselves, every other byte as `%XX` (upper-case hex). */
export function percentEncode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    out += UNRESERVED[b] ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/**
 * Decodes a percent-encoded value to bytes. Accepts upper- and lower-case hex.
 * Throws `bad_request` for any character outside unreserved / `%HH`.
 */
export function percentDecode(value: string): Buffer {
  const out = Buffer.allocUnsafe(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hi = hexValue(value.charCodeAt(i + 1));
      const lo = hexValue(value.charCodeAt(i + 2));
      if (hi < 0 || lo < 0)
        throw new ProtocolError('bad_request', `a "%" at offset ${i} of a value is not followed by two hex digits.`);
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else if (c < 256 && UNRESERVED[c]) {
      out[n++] = c;
    } else {
      throw new ProtocolError(
        'bad_request',
        `a value contains ${describeChar(c)} at offset ${i}; it must be percent-encoded.`,
      );
    }
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1; // also for NaN (past the end)
}

function describeChar(c: number): string {
  if (c === 0x0d) return 'a carriage return (\\r)';
  if (c === 0x0a) return 'a newline';
  if (c === 0x20) return 'a space';
  if (c < 0x20 || c === 0x7f) return `the control character 0x${c.toString(16).padStart(2, '0')}`;
  if (c > 0x7e) return `the non-ASCII character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${String.fromCharCode(c)}"`;
}

/** Encodes a string value (as UTF-8). Throws `bad_request` for NUL or a lone surrogate. */
export function encodeValue(value: string): string {
  if (value.includes('\0'))
    throw new ProtocolError('bad_request', 'a value contains a NUL character, which the protocol forbids.');
  if (LONE_SURROGATE_RE.test(value))
    throw new ProtocolError('bad_request', 'a value is not well-formed Unicode (lone surrogate).');
  return percentEncode(Buffer.from(value, 'utf8'));
}

/** Decodes a value to a string. Throws `bad_request` for bad escapes, a NUL byte, or bytes that are not UTF-8. */
export function decodeValue(value: string): string {
  const bytes = percentDecode(value);
  if (bytes.includes(0)) throw new ProtocolError('bad_request', 'a decoded value contains a NUL byte.');
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtocolError('bad_request', 'a decoded value is not valid UTF-8.');
  }
}

// ---------------------------------------------------------------------------
// Lines: syntax only

/** A line split into its word (op or status) and decoded fields. */
export interface Line {
  word: string;
  fields: Fields;
}

/** Field values to encode; `undefined` means absent (never sent as an empty value). */
export type FieldsInit = Readonly<Record<string, string | undefined>>;

/**
 * Encodes `v1 <word> k=v…\n`. Fields are written in insertion order; undefined
 * values are skipped. Throws `bad_request` for a bad word, key or value and
 * `too_long` when the line would exceed MAX_LINE_BYTES.
 */
export function encodeLine(word: string, fields: FieldsInit = {}): string {
  if (!isKey(word))
    throw new ProtocolError('bad_request', `"${word}" is not a valid op or status word (a-z, 0-9, "_", at most 32).`);
  let line = VERSION + ' ' + word;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (!isKey(key)) throw new ProtocolError('bad_request', `"${key}" is not a valid key (a-z, 0-9, "_", at most 32).`);
    line += ' ' + key + '=' + encodeValue(value);
  }
  line += '\n';
  // All characters are ASCII here, so length in chars is length in bytes.
  if (line.length > MAX_LINE_BYTES) {
    throw new ProtocolError(
      'too_long',
      `the encoded line is ${line.length} bytes; the limit is ${MAX_LINE_BYTES} including the newline.`,
    );
  }
  return line;
}

/**
 * Decodes one line, with or without its terminating `\n` (as returned by
 * readLine). Checks the version, the syntax of every word, key and value,
 * duplicate keys and the length limit. Does not check which op or status the
 * word names: see decodeRequest / decodeResponse.
 */
export function decodeLine(input: string | Uint8Array): Line {
  let line =
    typeof input === 'string'
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  if (line.endsWith('\n')) line = line.slice(0, -1);
  if (line.length + 1 > MAX_LINE_BYTES) {
    throw new ProtocolError(
      'too_long',
      `the line is ${line.length + 1} bytes; the limit is ${MAX_LINE_BYTES} including the newline.`,
    );
  }
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      const what = c === 0x0d ? 'a carriage return (\\r); lines end with a bare \\n' : describeChar(c);
      throw new ProtocolError('bad_request', `the line contains ${what} at offset ${i}.`);
    }
  }
  const parts = line.split(' ');
  const version = parts[0];
  if (version !== VERSION) {
    throw new ProtocolError(
      'bad_request',
      `the line does not start with "${VERSION} " (unsupported version or not a jmp agent line).`,
    );
  }
  const word = parts[1];
  if (word === undefined || !isKey(word)) {
    throw new ProtocolError(
      'bad_request',
      'the second word (op or status) is missing or malformed (a-z, 0-9, "_", at most 32).',
    );
  }
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 2; i < parts.length; i++) {
    const part = parts[i] ?? '';
    const eq = part.indexOf('=');
    if (part === '')
      throw new ProtocolError('bad_request', 'fields must be separated by exactly one space, with none at the end.');
    if (eq < 0) throw new ProtocolError('bad_request', `the field "${part.slice(0, 40)}" has no "=".`);
    const key = part.slice(0, eq);
    if (!isKey(key))
      throw new ProtocolError('bad_request', `"${key.slice(0, 40)}" is not a valid key (a-z, 0-9, "_", at most 32).`);
    if (key in fields) throw new ProtocolError('bad_request', `the key "${key}" appears more than once.`);
    try {
      fields[key] = decodeValue(part.slice(eq + 1));
    } catch (err) {
      if (err instanceof ProtocolError) throw new ProtocolError(err.code, `field "${key}": ${err.message}`);
      throw err;
    }
  }
  return { word, fields };
}

// ---------------------------------------------------------------------------
// Requests

interface PamFields {
  /** The PAM service name (sshd, sudo, …). */
  service?: string;
  tty?: string;
}
export interface AuthRequest extends PamFields {
  op: 'auth';
  user: string;
  rhost?: string;
  ticket: string;
}
export interface AccountRequest extends PamFields {
  op: 'account';
  user: string;
  rhost?: string;
}
export interface SudoRequest extends PamFields {
  op: 'sudo' | 'su';
  /** The invoking user. */
  user: string;
  /** The target user. */
  runas: string;
}
export interface SessionRequest extends PamFields {
  op: 'session_open' | 'session_close';
  user: string;
  rhost?: string;
  pid?: number;
}
export interface PingRequest {
  op: 'ping';
}
/**
 * `jmp-agent ticket HOST`: any local user asks for a ticket to hop on to
 * another host. The user is the peer's uid (SO_PEERCRED), never a field.
 */
export interface TicketRequest {
  op: 'ticket';
  /** The target host name. */
  host: string;
}
/**
 * `jmp-agent db redis`: the calling user (SO_PEERCRED) asks for a Redis ACL
 * user for one session (`action=open`), or gives it back (`action=close`, `user`).
 */
export interface DbRequest {
  op: 'db';
  kind: string;
  action: 'open' | 'close';
  user?: string;
}
/** A request as its sender builds it. */
export type Request =
  AuthRequest | AccountRequest | SudoRequest | SessionRequest | PingRequest | TicketRequest | DbRequest;
/** A request as decoded: the typed view plus every field received, unknown keys included. */
export type DecodedRequest = Request & { readonly fields: Fields };

/** The fields each op knows, in the order they are encoded. */
const REQUEST_KEYS: Record<RequestOp, readonly string[]> = {
  auth: ['user', 'service', 'rhost', 'tty', 'ticket'],
  account: ['user', 'service', 'rhost', 'tty'],
  sudo: ['user', 'runas', 'service', 'tty'],
  su: ['user', 'runas', 'service', 'tty'],
  session_open: ['user', 'service', 'rhost', 'tty', 'pid'],
  session_close: ['user', 'service', 'rhost', 'tty', 'pid'],
  ping: [],
  ticket: ['host'],
  db: ['kind', 'action', 'user'],
};
const REQUIRED_KEYS: Record<RequestOp, readonly string[]> = {
  auth: ['user', 'ticket'],
  account: ['user'],
  sudo: ['user', 'runas'],
  su: ['user', 'runas'],
  session_open: ['user'],
  session_close: ['user'],
  ping: [],
  ticket: ['host'],
  db: ['kind', 'action'],
};

export function isRequestOp(word: string): word is RequestOp {
  return (REQUEST_OPS as readonly string[]).includes(word);
}

/** Encodes a request line (with `\n`). Throws ProtocolError as encodeLine, or `bad_request` for a missing required field. */
export function encodeRequest(req: Request): string {
  const src = req as unknown as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  for (const key of REQUEST_KEYS[req.op]) {
    const v = src[key];
    if (key === 'pid' && v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 0)) {
      throw new ProtocolError('bad_request', `field "pid" must be a non-negative integer, got ${String(v)}.`);
    }
    out[key] = v === undefined ? undefined : String(v);
  }
  requireFields(req.op, out);
  return encodeLine(req.op, out);
}

/**
 * Decodes a request line. Errors: `too_long`; `bad_request` for syntax, a
 * missing required field or a bad `pid`; `unknown_op` for a well-formed but
 * unknown op. Unknown keys are kept in `fields` and otherwise ignored.
 */
export function decodeRequest(input: string | Uint8Array): DecodedRequest {
  const { word, fields } = decodeLine(input);
  if (!isRequestOp(word)) throw new ProtocolError('unknown_op', `"${word}" is not an operation this agent knows.`);
  requireFields(word, fields);
  const req: Record<string, unknown> = { op: word };
  for (const key of REQUEST_KEYS[word]) {
    const v = fields[key];
    if (v === undefined) continue;
    if (key === 'pid') {
      if (!/^[0-9]{1,10}$/.test(v))
        throw new ProtocolError('bad_request', `field "pid" must be a decimal number, got "${v.slice(0, 20)}".`);
      req[key] = Number(v);
    } else {
      req[key] = v;
    }
  }
  req['fields'] = fields;
  return req as unknown as DecodedRequest;
}

function requireFields(op: RequestOp, fields: Readonly<Record<string, string | undefined>>): void {
  for (const key of REQUIRED_KEYS[op]) {
    const v = fields[key];
    if (v === undefined || v === '')
      throw new ProtocolError('bad_request', `op "${op}" requires a non-empty "${key}" field.`);
  }
}

// ---------------------------------------------------------------------------
// Responses

export interface AllowResponse {
  status: 'allow';
  reason?: string;
  mode?: AgentMode;
  /** The jmp uid of the user (PAM ops): pam_jmp checks that getpwnam gives the same uid. */
  uid?: string;
}
export interface DenyResponse {
  status: 'deny';
  /** Shown to the user. */
  reason?: string;
  mode?: AgentMode;
}
export interface ErrorResponse {
  status: 'error';
  /**
   * One of WIRE_ERROR_CODES when sent by this version; a decoder keeps unknown codes as they are.
   * Always sent; a decoded error may lack it (still a refusal).
   */
  code?: WireErrorCode | (string & {});
  reason?: string;
}
export interface PongResponse {
  status: 'pong';
  version?: string;
  mode?: AgentMode;
}
/** Answer to `ticket`: a one-time ticket for the target host (answer its `jmp ticket:` prompt with it). */
export interface TicketResponse {
  status: 'ticket';
  ticket: string;
  /** ISO time after which the ticket no longer verifies. */
  expires_at?: string;
  host_id?: string;
  hostname?: string;
  /** The target's addresses, comma-separated. */
  addresses?: string;
  /** The target's registered SSH host keys, one OpenSSH line each, newline-separated. */
  ssh_host_keys?: string;
}
/** Answer to `db action=open`: the session's database user; its secret is for the client's environment only. */
export interface DbResponse {
  status: 'db';
  user: string;
  secret?: string;
  level?: string;
}
export type Response = AllowResponse | DenyResponse | ErrorResponse | PongResponse | TicketResponse | DbResponse;
export type DecodedResponse = Response & { readonly fields: Fields };

const RESPONSE_KEYS: Record<ResponseStatus, readonly string[]> = {
  allow: ['reason', 'mode', 'uid'],
  deny: ['reason', 'mode'],
  error: ['code', 'reason'],
  pong: ['version', 'mode'],
  ticket: ['ticket', 'expires_at', 'host_id', 'hostname', 'addresses', 'ssh_host_keys'],
  db: ['user', 'secret', 'level'],
};

const SHORT_KEYS: ReadonlySet<string> = new Set(['mode', 'code', 'version', 'uid']);

/** pam_jmp keeps mode, code, version and uid in small buffers: a longer value makes the line malformed. */
function checkShortValues(status: ResponseStatus, fields: Readonly<Record<string, string | undefined>>): void {
  for (const key of RESPONSE_KEYS[status]) {
    const v = fields[key];
    if (SHORT_KEYS.has(key) && v !== undefined && Buffer.byteLength(v, 'utf8') > MAX_SHORT_VALUE_BYTES) {
      throw new ProtocolError('bad_request', `field "${key}" is longer than ${MAX_SHORT_VALUE_BYTES} bytes.`);
    }
  }
}

export function isResponseStatus(word: string): word is ResponseStatus {
  return (RESPONSE_STATUSES as readonly string[]).includes(word);
}

/**
 * Encodes a response line (with `\n`). Throws `too_long` when it does not fit:
 * a server should shorten the reason (see fitReason) rather than fail.
 */
export function encodeResponse(res: Response): string {
  const src = res as unknown as Record<string, string | undefined>;
  const out: Record<string, string | undefined> = {};
  for (const key of RESPONSE_KEYS[res.status]) out[key] = src[key];
  if (res.status === 'error' && !res.code) throw new ProtocolError('bad_request', 'an error response needs a code.');
  checkShortValues(res.status, out);
  if (res.status === 'ticket' && !res.ticket)
    throw new ProtocolError('bad_request', 'a ticket response needs a ticket.');
  return encodeLine(res.status, out);
}

/**
 * Decodes a response line. Errors: `too_long`, `bad_request` (syntax, a
 * `ticket` without `ticket`, a short field over MAX_SHORT_VALUE_BYTES),
 * `unknown_status`. An unknown `mode` is dropped.
 */
export function decodeResponse(input: string | Uint8Array): DecodedResponse {
  const { word, fields } = decodeLine(input);
  if (!isResponseStatus(word))
    throw new ProtocolError('unknown_status', `"${word}" is not a response status this client knows.`);
  if (word === 'ticket' && !fields['ticket'])
    throw new ProtocolError('bad_request', 'a ticket response has no "ticket" field.');
  checkShortValues(word, fields);
  const res: Record<string, unknown> = { status: word };
  for (const key of RESPONSE_KEYS[word]) {
    const v = fields[key];
    if (v === undefined) continue;
    if (key === 'mode' && !(AGENT_MODES as readonly string[]).includes(v)) continue;
    res[key] = v;
  }
  res['fields'] = fields;
  return res as unknown as DecodedResponse;
}

/**
 * Shortens `reason` (by whole code points, appending "…") until `res` with it
 * encodes within MAX_LINE_BYTES. For servers, so that a long reason never
 * turns an answer into an error.
 */
export function fitReason<R extends Response>(res: R): R {
  const reason = (res as { reason?: string }).reason;
  if (reason === undefined) return res;
  try {
    encodeResponse(res);
    return res;
  } catch (err) {
    if (!(err instanceof ProtocolError) || err.code !== 'too_long') throw err;
  }
  const chars = Array.from(reason);
  let lo = 0;
  let hi = chars.length;
  // Largest prefix length that fits, by binary search (encoded size is monotonic in the prefix).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const candidate = { ...res, reason: chars.slice(0, mid).join('') + '…' };
    try {
      encodeResponse(candidate);
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return { ...res, reason: chars.slice(0, lo).join('') + '…' };
}

// ---------------------------------------------------------------------------
// Reading a line from socket chunks

/** Result of readLine. */
export type ReadLineResult =
  /** A complete line: `line` without its `\n`; `rest` is whatever followed it. */
  | { kind: 'line'; line: Buffer; rest: Buffer }
  /** No `\n` yet: keep `buffered` and call again with the next chunk. */
  | { kind: 'need_more'; buffered: Buffer }
  /** The line exceeds MAX_LINE_BYTES (with its `\n`): answer `too_long` and close. */
  | { kind: 'too_long' };

/**
 * Accumulates socket chunks into one line, bounded by MAX_LINE_BYTES. Pure:
 * pass what the previous call returned as `buffered` (an empty Buffer at
 * first). Never holds more than MAX_LINE_BYTES + one chunk. If the peer ends
 * the stream while the result is `need_more`, the line is incomplete
 * (`bad_request`). The protocol has one line per connection, so a non-empty
 * `rest` means the peer sent more than it should.
 *
 * ```ts
 * let buffered = Buffer.alloc(0);
 * socket.on('data', (chunk) => {
 *   const r = readLine(buffered, chunk);
 *   if (r.kind === 'need_more') buffered = r.buffered;
 *   else if (r.kind === 'too_long') reply({ status: 'error', code: 'too_long' });
 *   else handle(r.line);
 * });
 * ```
 */
export function readLine(buffered: Buffer, chunk: Uint8Array): ReadLineResult {
  const start = buffered.length;
  const all =
    start === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([buffered, chunk]);
  const nl = all.indexOf(0x0a, start);
  if (nl >= 0) {
    // The line with its \n is nl + 1 bytes.
    if (nl + 1 > MAX_LINE_BYTES) return { kind: 'too_long' };
    return { kind: 'line', line: all.subarray(0, nl), rest: all.subarray(nl + 1) };
  }
  // Even a \n in the next chunk would make the line longer than allowed.
  if (all.length >= MAX_LINE_BYTES) return { kind: 'too_long' };
  // Copy so the result never aliases a caller's chunk (which a stream may reuse).
  return { kind: 'need_more', buffered: start === 0 ? Buffer.from(all) : all };
}
