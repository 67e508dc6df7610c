// OpenSSH public key lines: checked by decoding the blob (its first field must
// name the same key type as the line), normalised to "type base64", and
// fingerprinted exactly as `ssh-keygen -l` does: SHA256:<unpadded base64>.
import { createHash } from 'node:crypto';

export interface ParsedKey {
  type: string;
  blob: Buffer;
  line: string;
  comment: string;
  fingerprint: string;
}

/** Returns the parsed key, or a sentence saying what is wrong with it. */
export function parseSshPublicKey(text: string): ParsedKey | string {
  const parts = text.trim().split(/\s+/);
  const [type, b64] = parts;
  if (!type || !b64) return 'must be "type base64 [comment]"';
  if (!/^[A-Za-z0-9+/]+={0,3}$/.test(b64) || b64.length % 4 !== 0) return 'the key data is not valid base64';
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 4) return 'the key data is too short';
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return 'the key data is not an SSH public key blob';
  const inner = blob.subarray(4, 4 + n).toString('latin1');
  if (inner !== type) return `the key data is a ${inner.replace(/[^\x20-\x7e]/g, '?')} key, not ${type}`;
  if (blob.length < 4 + n + 16) return 'the key data is truncated';
  const fingerprint = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  return { type, blob, line: `${type} ${blob.toString('base64')}`, comment: parts.slice(2).join(' '), fingerprint };
}
