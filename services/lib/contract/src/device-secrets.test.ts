import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCipheriv, randomBytes } from 'node:crypto';
import {
  DeviceSecretError,
  TAG_BYTES,
  decryptGcm,
  generateDeviceKeyPair,
  openDeviceSecret,
  parseDevicePrivateKey,
  parseDevicePublicKey,
  publicOf,
  sealDeviceSecret,
  sealedKeyVersion,
} from './device-secrets.js';

const pair = generateDeviceKeyPair();
const priv = parseDevicePrivateKey(pair.privatePem);
const binding = { deviceId: 7, account: 'admin', keyVersion: 3 };
const SECRET = 'Tr0ub4dor&3-device';

test('a sealed secret opens with the private key and the same binding; each seal differs', () => {
  assert.equal(publicOf(priv), pair.publicKey);
  const a = sealDeviceSecret(pair.publicKey, SECRET, binding);
  const b = sealDeviceSecret(parseDevicePublicKey(pair.publicKey), SECRET, binding);
  assert.notDeepEqual(a, b, 'a fresh ephemeral key and nonce per seal');
  assert.equal(sealedKeyVersion(a), 3);
  assert.equal(openDeviceSecret(priv, a, binding), SECRET);
  assert.equal(openDeviceSecret(priv, b, binding), SECRET);
  assert.ok(!a.includes(Buffer.from(SECRET)), 'the plaintext is not in the blob');
  assert.equal(openDeviceSecret(priv, sealDeviceSecret(pair.publicKey, 'ü€✓', binding), binding), 'ü€✓');
});

test('another device, account or key version does not open it', () => {
  const sealed = sealDeviceSecret(pair.publicKey, SECRET, binding);
  assert.throws(() => openDeviceSecret(priv, sealed, { ...binding, deviceId: 8 }), DeviceSecretError);
  assert.throws(() => openDeviceSecret(priv, sealed, { ...binding, account: 'admin2' }), DeviceSecretError);
  assert.throws(() => openDeviceSecret(priv, sealed, { ...binding, keyVersion: 4 }), /key version 3, expected 4/);
  // The key version in the header is bound too: rewriting it fails the tag.
  const moved = Buffer.from(sealed);
  moved.writeUInt32BE(4, 1);
  assert.throws(() => openDeviceSecret(priv, moved, { ...binding, keyVersion: 4 }), /does not open/);
});

test('another private key, a flipped bit or a truncated tag does not open it', () => {
  const sealed = sealDeviceSecret(pair.publicKey, SECRET, binding);
  const other = parseDevicePrivateKey(generateDeviceKeyPair().privatePem);
  assert.throws(() => openDeviceSecret(other, sealed, binding), /does not open/);
  for (const i of [10, 60, sealed.length - 20, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[i]! ^= 1;
    assert.throws(() => openDeviceSecret(priv, bad, binding), DeviceSecretError, `bit flipped at ${i}`);
  }
  assert.throws(() => openDeviceSecret(priv, sealed.subarray(0, sealed.length - 12), binding), DeviceSecretError);
  assert.throws(() => openDeviceSecret(priv, sealed.subarray(0, 40), binding), /not a sealed device secret/);
});

test('decryption refuses a short GCM tag that Node alone would accept', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = Buffer.from('aad');
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update('secret'), c.final()]);
  const tag = c.getAuthTag();
  assert.equal(decryptGcm(key, nonce, ct, tag, aad).toString(), 'secret');
  assert.throws(() => decryptGcm(key, nonce, ct, tag.subarray(0, 4), aad), /16 bytes/);
  assert.throws(() => decryptGcm(key, nonce, ct, tag.subarray(0, 15), aad), /16 bytes/);
});

test('keys that are not X25519 are refused with a sentence', () => {
  assert.throws(() => parseDevicePublicKey('ed25519:abc'), /starts with x25519:/);
  assert.throws(() => parseDevicePublicKey('x25519:AAAA'), /32 bytes/);
  assert.throws(() => parseDevicePrivateKey('garbage'), /not a private key/);
});
