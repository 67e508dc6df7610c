// The agent's ES256 key pair: the private half in the key file (PKCS#8 PEM,
// 0600), the public half registered at enrolment.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../persist/atomic.js';

export interface AgentKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function generateAgentKey(): AgentKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

export function writeAgentKey(path: string, key: AgentKey): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeFileAtomic(path, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
}

/** Loads the key; refuses a key file others can read (it is the host's identity). */
export function loadAgentKey(path: string): AgentKey {
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0)
    throw new Error(
      `${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it or enrol again`,
    );
  const privateKey = createPrivateKey(readFileSync(path));
  if (privateKey.asymmetricKeyType !== 'ec') throw new Error(`${path} is not an EC (ES256) key`);
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string };
}
