// jmp-ssh's own host key: generated once (ed25519), kept 0600, reused on every
// start so clients' known_hosts stay valid. Every instance behind a balancer
// must share the same key file.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';

export function loadOrCreateHostKey(path: string): Buffer {
  if (existsSync(path)) return readFileSync(path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { private: key } = ssh2.utils.generateKeyPairSync('ed25519');
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, key, { mode: 0o600 });
  renameSync(tmp, path);
  return Buffer.from(key);
}
