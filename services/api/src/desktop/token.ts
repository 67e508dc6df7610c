// Desktop tokens in guacamole-lite's format: base64 of {iv, value}, value
// being AES-256-CBC of the JSON settings. The token carries no secret (no
// password, no ticket): only the connection type, the host name and the jmp
// claims. CBC has no integrity, so the store's record of the jti (what was
// issued, to whom, for which host) is the truth a redeem compares against.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface DesktopClaims {
  jti: string;
  uid: number;
  user: string;
  hostId: number;
  /** Expiry, ms since the epoch. */
  exp: number;
}

const CIPHER = 'aes-256-cbc';

export function sealDesktopToken(key: Buffer, hostname: string, claims: DesktopClaims): string {
  const iv = randomBytes(16);
  const c = createCipheriv(CIPHER, key, iv);
  const plain = JSON.stringify({ connection: { type: 'rdp', settings: { hostname } }, jmp: claims });
  const value = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  const outer = JSON.stringify({ iv: iv.toString('base64'), value: value.toString('base64') });
  return Buffer.from(outer).toString('base64');
}

/** The claims of a token, or null for anything that is not a token sealed with this key. */
export function openDesktopToken(key: Buffer, token: string): DesktopClaims | null {
  try {
    const outer = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { iv?: unknown; value?: unknown };
    if (typeof outer.iv !== 'string' || typeof outer.value !== 'string') return null;
    const iv = Buffer.from(outer.iv, 'base64');
    if (iv.length !== 16) return null;
    const d = createDecipheriv(CIPHER, key, iv);
    const plain = Buffer.concat([d.update(Buffer.from(outer.value, 'base64')), d.final()]).toString('utf8');
    const j = (JSON.parse(plain) as { jmp?: Partial<DesktopClaims> }).jmp;
    if (
      !j ||
      typeof j.jti !== 'string' ||
      typeof j.uid !== 'number' ||
      typeof j.user !== 'string' ||
      typeof j.hostId !== 'number' ||
      typeof j.exp !== 'number'
    )
      return null;
    return { jti: j.jti, uid: j.uid, user: j.user, hostId: j.hostId, exp: j.exp };
  } catch {
    return null;
  }
}
