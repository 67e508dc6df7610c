// Device secrets sealed to jmp-ssh's device key: jmp-api seals with the public
// half only, so jmp-api and Postgres hold ciphertext; jmp-ssh opens with the
// private half (JMP_DEVICE_KEY). X25519 (ephemeral-static) + HKDF-SHA256 +
// AES-256-GCM; the associated data binds the device id, the account and the key
// version, so a sealed blob moved to another row or replayed under another key
// version does not open.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

/** The format byte of a sealed blob; a new format gets a new byte. */
const FORMAT = 1;
const PUB_BYTES = 32;
const NONCE_BYTES = 12;
/** The full GCM tag: Node accepts a 4-byte tag unless told the length. */
export const TAG_BYTES = 16;
const HEADER_BYTES = 1 + 4 + PUB_BYTES + NONCE_BYTES;
const INFO = Buffer.from('jmp device secret v1');
/** Public keys travel as this prefix + base64url of the raw 32 bytes. */
const PUBLIC_PREFIX = 'x25519:';

export interface SealBinding {
  deviceId: number;
  account: string;
  keyVersion: number;
}

export class DeviceSecretError extends Error {
  override name = 'DeviceSecretError';
}

function u32(n: number, what: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new DeviceSecretError(`${what} must be a 32-bit integer`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** The associated data: format, device id, account (length-prefixed) and key version. */
export function associatedData(b: SealBinding): Buffer {
  const account = Buffer.from(b.account, 'utf8');
  return Buffer.concat([
    Buffer.from([FORMAT]),
    u32(b.deviceId, 'device id'),
    u32(account.length, 'account length'),
    account,
    u32(b.keyVersion, 'key version'),
  ]);
}

function rawPublic(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'X25519' || typeof jwk.x !== 'string') throw new DeviceSecretError('not an X25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

function publicFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== PUB_BYTES) throw new DeviceSecretError('an X25519 public key has 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** "x25519:<base64url>" → key; throws a DeviceSecretError naming what is wrong. */
export function parseDevicePublicKey(text: string): KeyObject {
  const t = text.trim();
  if (!t.startsWith(PUBLIC_PREFIX)) throw new DeviceSecretError(`a device public key starts with ${PUBLIC_PREFIX}`);
  const raw = Buffer.from(t.slice(PUBLIC_PREFIX.length), 'base64url');
  return publicFromRaw(raw);
}

export function formatDevicePublicKey(key: KeyObject): string {
  return PUBLIC_PREFIX + rawPublic(key).toString('base64url');
}

/** A new key pair: the private half as PKCS#8 PEM (the JMP_DEVICE_KEY file), the public half as text. */
export function generateDeviceKeyPair(): { privatePem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: formatDevicePublicKey(publicKey),
  };
}

/** The private key of a PEM file's text; throws a DeviceSecretError when it is not X25519. */
export function parseDevicePrivateKey(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new DeviceSecretError(`not a private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'x25519') throw new DeviceSecretError('the device key must be an X25519 key');
  return key;
}

export function publicOf(privateKey: KeyObject): string {
  return formatDevicePublicKey(createPublicKey(privateKey));
}

function deriveKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), INFO, 32));
}

/**
 * AES-256-GCM decryption that insists on the full 16-byte tag (a shorter tag
 * would be a forgery 2^32 tries away).
 */
export function decryptGcm(key: Buffer, nonce: Buffer, ciphertext: Buffer, tag: Buffer, aad: Buffer): Buffer {
  if (tag.length !== TAG_BYTES) throw new DeviceSecretError(`the tag must have ${TAG_BYTES} bytes`);
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch {
    throw new DeviceSecretError('the sealed secret does not open (wrong key, key version, device or account)');
  }
}

/**
 * Seals `secret` to the recipient's public key. Layout: format (1) | key
 * version (4) | ephemeral public key (32) | nonce (12) | ciphertext | tag (16).
 */
export function sealDeviceSecret(recipient: KeyObject | string, secret: string, b: SealBinding): Buffer {
  const rcpt = typeof recipient === 'string' ? parseDevicePublicKey(recipient) : recipient;
  const eph = generateKeyPairSync('x25519');
  const ephRaw = rawPublic(eph.publicKey);
  const key = deriveKey(diffieHellman({ privateKey: eph.privateKey, publicKey: rcpt }), ephRaw, rawPublic(rcpt));
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(associatedData(b));
  const ct = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  key.fill(0);
  return Buffer.concat([Buffer.from([FORMAT]), u32(b.keyVersion, 'key version'), ephRaw, nonce, ct, c.getAuthTag()]);
}

/** The key version a sealed blob says it was made for (to pick the private key). */
export function sealedKeyVersion(sealed: Buffer): number {
  if (sealed.length < HEADER_BYTES + TAG_BYTES || sealed[0] !== FORMAT)
    throw new DeviceSecretError('not a sealed device secret');
  return sealed.readUInt32BE(1);
}

/** Opens a sealed blob; the binding must be the one it was sealed with. */
export function openDeviceSecret(privateKey: KeyObject, sealed: Buffer, b: SealBinding): string {
  const version = sealedKeyVersion(sealed);
  if (version !== b.keyVersion)
    throw new DeviceSecretError(`sealed for key version ${version}, expected ${b.keyVersion}`);
  const ephRaw = sealed.subarray(5, 5 + PUB_BYTES);
  const nonce = sealed.subarray(5 + PUB_BYTES, HEADER_BYTES);
  const ct = sealed.subarray(HEADER_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const shared = diffieHellman({ privateKey, publicKey: publicFromRaw(Buffer.from(ephRaw)) });
  const key = deriveKey(shared, Buffer.from(ephRaw), rawPublic(createPublicKey(privateKey)));
  try {
    return decryptGcm(key, nonce, ct, tag, associatedData(b)).toString('utf8');
  } finally {
    key.fill(0);
  }
}
