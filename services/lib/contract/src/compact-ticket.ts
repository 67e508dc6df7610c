// The compact login ticket (docs/agent-protocol.md, "Compact tickets"): the
// JWT ticket's claims in a fixed binary layout plus a raw ES256 signature,
// short enough to be an RDP password (xrdp refuses 256 characters or more).
// jmp-api mints it with the same ticket keys as the JWT; jmp-api and the
// agent verify it with the same rules. Pure: node:crypto only, no I/O.
//
//   "jmpc." base64url( payload || signature )
//   payload  = version (1 byte, 1)
//              key id (4: the first bytes of SHA-256 of the signing key's kid)
//              host id (4, big-endian; the ticket's audience)
//              exp (4, big-endian, epoch seconds)
//              lifetime (1: exp - iat in seconds, 1..60)
//              jti (16: 128 random bits, written as a UUID where a string is needed)
//              flags (1: bit 0 = a session follows; other bits zero)
//              [session (16: the jmp session id, a UUID)]
//              username length (1: 1..32), username (ASCII)
//   signature = ECDSA P-256 over SHA-256 of the payload, r || s (64 bytes, IEEE P1363)
import { createHash, sign, verify, type KeyObject } from 'node:crypto';

export const COMPACT_TICKET_PREFIX = 'jmpc.';
export const COMPACT_TICKET_VERSION = 1;
/** The longest compact ticket (32-character username and a session): 197 characters. */
export const COMPACT_TICKET_MAX_LENGTH = 200;

/** The same bounds as the JWT ticket (jmp-api's tickets.ts, the agent's decide/ticket.ts). */
export const MAX_TICKET_TTL_S = 60;
export const TICKET_CLOCK_SKEW_S = 30;
export const TICKET_CLOCK_TOLERANCE_S = 2;

const SIG_BYTES = 64;
const FIXED_BYTES = 1 + 4 + 4 + 4 + 1 + 16 + 1;
const FLAG_SESSION = 0x01;
const USERNAME_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const B64URL_RE = /^[A-Za-z0-9_-]+$/;

export interface CompactClaims {
  hostId: number;
  username: string;
  /** Epoch seconds. */
  iat: number;
  exp: number;
  /** 128 bits as a UUID string (lower case). */
  jti: string;
  /** The jmp session the login belongs to (a UUID), when the ticket names one. */
  session?: string;
}

export interface DecodedCompactTicket {
  /** Hex of the 4-byte key id; see compactKeyId. */
  keyId: string;
  claims: CompactClaims;
  signed: Buffer;
  signature: Buffer;
}

export type CompactCheck =
  { ok: true; jti: string; exp: number; iat: number; session?: string } | { ok: false; reason: string };

export const isCompactTicket = (ticket: string): boolean => ticket.startsWith(COMPACT_TICKET_PREFIX);

/** The 4-byte key id (hex) a compact ticket carries for the key named `kid`. */
export function compactKeyId(kid: string): string {
  return createHash('sha256').update(kid, 'utf8').digest().subarray(0, 4).toString('hex');
}

const uuidBytes = (u: string): Buffer => Buffer.from(u.replace(/-/g, ''), 'hex');
const uuidString = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The payload bytes of a ticket with these claims; throws on claims jmp-api must never sign. */
export function encodeCompactPayload(kid: string, c: CompactClaims): Buffer {
  const ttl = c.exp - c.iat;
  if (!Number.isInteger(c.hostId) || c.hostId < 1 || c.hostId > 0xffffffff) throw new Error('host id out of range');
  if (!USERNAME_RE.test(c.username)) throw new Error('username is not a jmp username');
  if (!Number.isInteger(c.exp) || c.exp < 1 || c.exp > 0xffffffff) throw new Error('exp out of range');
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TICKET_TTL_S) throw new Error('lifetime out of range');
  if (!UUID_RE.test(c.jti)) throw new Error('jti is not 128 bits as a UUID');
  if (c.session !== undefined && !UUID_RE.test(c.session)) throw new Error('session is not a UUID');
  const user = Buffer.from(c.username, 'ascii');
  const out = Buffer.alloc(FIXED_BYTES + (c.session ? 16 : 0) + 1 + user.length);
  let o = out.writeUInt8(COMPACT_TICKET_VERSION, 0);
  o += Buffer.from(compactKeyId(kid), 'hex').copy(out, o);
  o = out.writeUInt32BE(c.hostId, o);
  o = out.writeUInt32BE(c.exp, o);
  o = out.writeUInt8(ttl, o);
  o += uuidBytes(c.jti).copy(out, o);
  o = out.writeUInt8(c.session ? FLAG_SESSION : 0, o);
  if (c.session) o += uuidBytes(c.session).copy(out, o);
  o = out.writeUInt8(user.length, o);
  user.copy(out, o);
  return out;
}

/** Mints a compact ticket signed by `privateKey` (the ticket key named `kid`). */
export function signCompactTicket(kid: string, privateKey: KeyObject, claims: CompactClaims): string {
  const payload = encodeCompactPayload(kid, claims);
  const signature = sign('sha256', payload, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return COMPACT_TICKET_PREFIX + Buffer.concat([payload, signature]).toString('base64url');
}

/** Parses the layout strictly (exact length, known version and flags, jmp username); checks nothing else. */
export function decodeCompactTicket(ticket: string): DecodedCompactTicket | null {
  if (!isCompactTicket(ticket) || ticket.length > COMPACT_TICKET_MAX_LENGTH) return null;
  const body = ticket.slice(COMPACT_TICKET_PREFIX.length);
  if (!B64URL_RE.test(body) || body.length % 4 === 1) return null;
  const raw = Buffer.from(body, 'base64url');
  // Only the canonical encoding: no second spelling of the same bytes (stray low bits in the last character).
  if (raw.toString('base64url') !== body) return null;
  if (raw.length < FIXED_BYTES + 2 + SIG_BYTES) return null;
  const payload = raw.subarray(0, raw.length - SIG_BYTES);
  if (payload.readUInt8(0) !== COMPACT_TICKET_VERSION) return null;
  const flags = payload.readUInt8(30);
  if ((flags & ~FLAG_SESSION) !== 0) return null;
  let o = FIXED_BYTES;
  const session = flags & FLAG_SESSION ? payload.subarray(o, (o += 16)) : null;
  if (o >= payload.length) return null;
  const userLen = payload.readUInt8(o++);
  if (payload.length !== o + userLen) return null;
  const username = payload.subarray(o).toString('latin1');
  const exp = payload.readUInt32BE(9);
  const ttl = payload.readUInt8(13);
  if (!USERNAME_RE.test(username) || ttl < 1 || ttl > MAX_TICKET_TTL_S || exp < ttl) return null;
  return {
    keyId: payload.subarray(1, 5).toString('hex'),
    claims: {
      hostId: payload.readUInt32BE(5),
      username,
      iat: exp - ttl,
      exp,
      jti: uuidString(payload.subarray(14, 30)),
      ...(session ? { session: uuidString(session) } : {}),
    },
    signed: Buffer.from(payload),
    signature: Buffer.from(raw.subarray(raw.length - SIG_BYTES)),
  };
}

/**
 * The JWT ticket's rules for a decoded compact ticket and the public key its
 * key id names: signature, audience (host), subject (user), expiry, and the
 * clock checks. Single use is the caller's job. Never throws.
 */
export function checkCompactTicket(
  t: DecodedCompactTicket,
  key: KeyObject,
  username: string,
  hostId: number,
  nowS: number,
): CompactCheck {
  let good = false;
  try {
    good = verify('sha256', t.signed, { key, dsaEncoding: 'ieee-p1363' }, t.signature);
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'ticket signature is invalid' };
  const c = t.claims;
  if (nowS >= c.exp + TICKET_CLOCK_TOLERANCE_S) return { ok: false, reason: 'ticket has expired' };
  if (c.hostId !== hostId) return { ok: false, reason: 'ticket is for another host' };
  if (c.username !== username) return { ok: false, reason: 'ticket is for another user' };
  if (c.iat > nowS + TICKET_CLOCK_SKEW_S) return { ok: false, reason: 'ticket was issued in the future' };
  if (c.exp > nowS + MAX_TICKET_TTL_S + TICKET_CLOCK_SKEW_S)
    return { ok: false, reason: 'ticket expires too far in the future' };
  return { ok: true, jti: c.jti, exp: c.exp, iat: c.iat, ...(c.session ? { session: c.session } : {}) };
}
