import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateEd25519KeyPair, loadOrCreateHostKey } from './host-key.js';

test('every generated key pair parses back (ssh2 alone fails about 1 in 256)', () => {
  for (let i = 0; i < 3000; i++) {
    const pair = generateEd25519KeyPair();
    assert.ok(!(ssh2.utils.parseKey(pair.private) instanceof Error), `private key ${i}`);
    assert.ok(!(ssh2.utils.parseKey(pair.public) instanceof Error), `public key ${i}`);
  }
});

test('the host key is made once, 0600, and read back the same; no temporary file stays', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jmp-hostkey-'));
  try {
    const path = join(dir, 'sub', 'ssh_host_ed25519_key');
    const first = loadOrCreateHostKey(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateHostKey(path), first);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['ssh_host_ed25519_key']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged key file stops the start with a line naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jmp-hostkey-'));
  try {
    const path = join(dir, 'ssh_host_ed25519_key');
    writeFileSync(path, '-----BEGIN OPENSSH PRIVATE KEY-----\nbm9wZQ==\n-----END OPENSSH PRIVATE KEY-----\n', {
      mode: 0o600,
    });
    assert.throws(() => loadOrCreateHostKey(path), new RegExp(`host key ${path} is not a usable private key`));
    assert.match(readFileSync(path, 'utf8'), /bm9wZQ==/, 'the file is left as it was');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
