// The token jmp-rdp hands to guacamole-lite for a connection it has already
// checked. It never leaves the process (the key is made at start-up), so
// guacamole-lite's own decryption is the only reader. That decryption reads
// the plaintext as ASCII, which corrupts every non-ASCII character (a
// Windows user "Jürgen", a password with "€"); so the JSON is written with
// every non-ASCII character as a \uXXXX escape: pure ASCII, same value.
import { createCipheriv, randomBytes } from 'node:crypto';

export interface LiteConnection {
  connection: { type: 'rdp'; settings: Record<string, string> };
}

/** JSON with every character above U+007F escaped; JSON.parse gives back the same value. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** guacamole-lite's token: base64 of {iv, value}, value = AES-256-CBC of the settings' JSON. */
export function liteToken(key: Buffer, settings: LiteConnection): string {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', key, iv);
  const value = Buffer.concat([c.update(asciiJson(settings), 'ascii'), c.final()]);
  return Buffer.from(JSON.stringify({ iv: iv.toString('base64'), value: value.toString('base64') })).toString('base64');
}
