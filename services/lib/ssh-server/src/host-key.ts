// The SSH service's own host key (jmp-ssh, jmp-sftp): generated once (ed25519), kept 0600, reused on every
// start so clients' known_hosts stay valid. Every instance behind a balancer
// must share the same key file.
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';

/** 4+11 bytes of "ssh-ed25519", 4+32 of the key. */
const ED25519_BLOB_BYTES = 51;

/**
 * An ed25519 key pair in OpenSSH format. ssh2's generator drops leading zero
 * bytes of the public key, so about 1 pair in 256 cannot be parsed back
 * (ssh2 issues #1390, #1513): such pairs are thrown away.
 */
export function generateEd25519KeyPair(): { private: string; public: string } {
  for (let i = 0; i < 32; i++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const priv = ssh2.utils.parseKey(pair.private);
    const pub = ssh2.utils.parseKey(pair.public);
    if (
      !(priv instanceof Error) &&
      !(pub instanceof Error) &&
      pub.getPublicSSH().length === ED25519_BLOB_BYTES &&
      priv.getPublicSSH().equals(pub.getPublicSSH())
    )
      return pair;
  }
  throw new Error('could not generate a usable ed25519 key pair');
}

/**
 * Writes a key file (0600) made by `make` unless `path` exists. Instances
 * starting together agree on one key: each writes its own candidate, the
 * first hard link wins, and all read the winner. Also jmp-ssh's device key.
 */
export function createKeyFileOnce(path: string, make: () => string): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, make(), { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** The key at `path`, created if missing (createKeyFileOnce). */
export function loadOrCreateHostKey(path: string): Buffer {
  createKeyFileOnce(path, () => generateEd25519KeyPair().private);
  const key = readFileSync(path);
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error)
    throw new Error(
      `host key ${path} is not a usable private key (${parsed.message}); restore it, or remove it to have a new one made (clients will see a changed host key)`,
    );
  return key;
}
