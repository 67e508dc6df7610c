// Keys derived from the one master secret (JMP_SECRET_KEY), each for one use,
// and authenticated encryption for secrets at rest (TOTP seeds, ticket keys).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export interface Secrets {
  sessionKey: Buffer;
  serviceKey: Buffer;
  /** AES-256-CBC key of desktop tokens (guacamole-lite's token format). */
  desktopKey: Buffer;
  seal(plaintext: string, purpose: string): string;
  open(sealed: string, purpose: string): string;
}

export function deriveSecrets(master: Buffer): Secrets {
  if (master.length < 32) throw new Error('the master secret must be at least 32 bytes');
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `jmp ${info}`, 32));
  const encKey = derive('at-rest encryption');
  return {
    sessionKey: derive('web session'),
    serviceKey: derive('service token'),
    desktopKey: derive('desktop token'),
    // v1.<iv>.<tag>.<ciphertext>, base64url; the purpose is bound as AAD so a
    // sealed TOTP seed cannot be passed off as a sealed private key.
    seal(plaintext, purpose) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', encKey, iv);
      c.setAAD(Buffer.from(purpose));
      const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    open(sealed, purpose) {
      const [v, iv, tag, ct] = sealed.split('.');
      if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('sealed value has an unknown format');
      const d = createDecipheriv('aes-256-gcm', encKey, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(purpose));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    },
  };
}

/** Parses the master secret: 64 hex characters or ≥ 32 bytes of base64. */
export function parseMasterSecret(text: string): Buffer {
  const t = text.trim();
  const buf = /^[0-9a-fA-F]{64,}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (buf.length < 32) throw new Error('must be at least 32 bytes (64 hex characters or base64)');
  return buf;
}

export function constantTimeEqual(a: string, b: string): boolean {
  // Hash first so lengths never leak through the comparison.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function sha256hex(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}
