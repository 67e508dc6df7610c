// A host agent's identity for tests: its ES256 key pair and JMP-Host tokens.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface HostIdentity {
  publicKeyPem: string;
  privateKey: KeyObject;
  token(hostId: number, opts?: { expiresIn?: number }): string;
}

export function hostIdentity(): HostIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    token: (hostId, opts = {}) =>
      `JMP-Host ${jwt.sign({}, privateKey, { algorithm: 'ES256', subject: `host:${hostId}`, audience: 'jmp-api', expiresIn: opts.expiresIn ?? 60 })}`,
  };
}
