// jmp-socket is an ssh client of jmp-ssh and checks its host key against a
// pin from the configuration: an OpenSSH fingerprint or the public key line.
import { createHash } from 'node:crypto';

export type HostKeyPin = { kind: 'fingerprint'; fingerprint: string } | { kind: 'key'; blob: Buffer };

/** "SHA256:…" as `ssh-keygen -lf` prints it (base64 without padding). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Parses JMP_SSH_HOST_KEY; a string is the reason it is not a pin. */
export function parseHostKeyPin(text: string): HostKeyPin | string {
  const v = text.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}$/.test(v)) return { kind: 'fingerprint', fingerprint: v };
  const m = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) ([A-Za-z0-9+/]+={0,3})(?: .*)?$/.exec(v);
  if (m) {
    const blob = Buffer.from(m[2]!, 'base64');
    const n = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
    if (n > 0 && blob.length >= 4 + n && blob.subarray(4, 4 + n).toString('latin1') === m[1])
      return { kind: 'key', blob };
  }
  return "must be the fingerprint of jmp-ssh's host key (SHA256:…, from ssh-keygen -lf) or its public key line (ssh-ed25519 AAAA…)";
}

export function hostKeyMatches(pin: HostKeyPin, blob: Buffer): boolean {
  return pin.kind === 'key' ? pin.blob.equals(blob) : fingerprintOf(blob) === pin.fingerprint;
}
