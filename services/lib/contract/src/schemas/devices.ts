// Network devices (DESIGN flow 10): the admin resources (devices, their
// accounts, vendor profiles), the device-secrets keys, and what jmp-ssh asks
// when a person opens a device. Secrets go in (set, rotate) and never come out:
// no response schema has a field for one.
import { z } from 'zod';
import { AdminId, AdminPage, IdParams, RefId } from './admin.js';
import { Hostname, HostState, Name, Text, Username } from './primitives.js';

export const DeviceProtocol = z.enum(['ssh', 'telnet']);
export type DeviceProtocol = z.infer<typeof DeviceProtocol>;

/** A device account name: what the device's login asks for. */
export const DeviceAccountName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/, 'must be 1-64 letters, digits, and _ . @ -');
/** A secret as typed by an administrator: printable, no line breaks (they would end the login line). */
export const DeviceSecret = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^\r\n\u0000]+$/, 'must not contain line breaks or NUL');

/** A pattern is an RE2 regular expression; jmp-api compiles it before storing. */
const Pattern = z.string().min(1).max(512);
const SshAlgorithmName = z.string().regex(/^[a-z0-9@._+-]{1,64}$/, 'must be an SSH algorithm name');
const AlgorithmList = z.array(SshAlgorithmName).max(16).default([]);

export const DeviceRule = z.strictObject({
  name: Name,
  pattern: Pattern,
  action: z.enum(['alert', 'block']).default('block'),
  severity: z.enum(['low', 'medium', 'high', 'critical']).default('high'),
});
export type DeviceRule = z.infer<typeof DeviceRule>;

/** One step of a telnet login: wait for `expect` (RE2), then send the account name or the secret. */
export const LoginStep = z.strictObject({
  expect: Pattern,
  send: z.enum(['account', 'secret']),
});

/** A vendor profile: how to talk to a kind of device and which of its commands are judged. */
export const DeviceProfileSpec = z.strictObject({
  /** The device's prompt (RE2, matched against the end of its output). */
  prompt: Pattern.default('[>#$] ?$'),
  /** A pager line (`--More--`) the device shows; answered with a space during the login. */
  paging: Pattern.optional(),
  /** Telnet: the login sequence. SSH devices use the account and password (or keyboard-interactive). */
  login: z
    .array(LoginStep)
    .max(8)
    .default([
      { expect: '(?i)(user ?name|login) ?: ?$', send: 'account' },
      { expect: '(?i)password ?: ?$', send: 'secret' },
    ]),
  /** Seconds to wait for each login step and for the first prompt. */
  promptTimeoutSeconds: z.number().int().min(1).max(120).default(15),
  /** Login failure lines (RE2); one match ends the attempt (one try, no lockout storm). */
  failure: Pattern.default('(?i)(login incorrect|authentication failed|access denied|bad password)'),
  /** SSH algorithms appended to ssh2's defaults for this device's connections only. */
  algorithms: z
    .strictObject({
      kex: AlgorithmList,
      serverHostKey: AlgorithmList,
      cipher: AlgorithmList,
      hmac: AlgorithmList,
    })
    .partial()
    .default({}),
  mode: z.enum(['deny-list', 'allow-list']).default('deny-list'),
  rules: z.array(DeviceRule).max(256).default([]),
});
export type DeviceProfileSpec = z.infer<typeof DeviceProfileSpec>;

const ProfileName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 of a-z 0-9 . _ -');
export const DeviceProfileCreate = z.strictObject({ name: ProfileName, spec: DeviceProfileSpec });
export const DeviceProfileUpdate = z.strictObject({ name: ProfileName.optional(), spec: DeviceProfileSpec.optional() });
export const DeviceProfile = z.object({
  id: z.number(),
  name: z.string(),
  spec: DeviceProfileSpec,
  createdAt: z.string(),
});
export const DeviceProfileList = z.object({ items: z.array(DeviceProfile) });

/** Device names are host-name shaped and stored in lower case. */
const DeviceName = Hostname.transform((h) => h.toLowerCase());
/** A host name or IP address. */
const Address = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or IP address');
const HostKeyLine = z
  .string()
  .trim()
  .max(16384)
  .regex(
    /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( .*)?$/,
    'must be an SSH public key line',
  );

export const DeviceCreate = z.strictObject({
  name: DeviceName,
  address: Address,
  protocol: DeviceProtocol,
  port: z.number().int().min(1).max(65535).optional().describe('default: 22 for ssh, 23 for telnet'),
  state: HostState.default('online'),
  profileId: RefId,
  serviceId: RefId.nullable().optional(),
  hostKey: HostKeyLine.nullable().optional().describe('the SSH host key; unset, an administrator pins it on first use'),
});
export const DeviceUpdate = z.strictObject({
  name: DeviceName.optional(),
  address: Address.optional(),
  protocol: DeviceProtocol.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  state: HostState.optional(),
  profileId: RefId.optional(),
  serviceId: RefId.nullable().optional(),
  hostKey: HostKeyLine.nullable().optional(),
});
export const DeviceQuery = AdminPage.extend({
  q: z.string().trim().min(1).max(128).optional(),
  serviceId: AdminId.optional(),
});
export const DeviceAccountView = z.object({
  id: z.number(),
  name: z.string(),
  /** Whether a secret is set; the secret itself is never returned. */
  secretSet: z.boolean(),
  keyVersion: z.number().nullable(),
  secretSetAt: z.string().nullable(),
});
export const Device = z.object({
  id: z.number(),
  name: z.string(),
  address: z.string(),
  port: z.number(),
  protocol: DeviceProtocol,
  state: HostState,
  profileId: z.number(),
  profile: z.string(),
  serviceId: z.number().nullable(),
  hostKey: z.string().nullable(),
  accounts: z.array(DeviceAccountView),
  createdAt: z.string(),
});
export const DeviceList = z.object({
  items: z.array(Device),
  total: z.number(),
  limit: z.number(),
  offset: z.number(),
});
export const DeviceAccountCreate = z.strictObject({ name: DeviceAccountName, secret: DeviceSecret.optional() });
export const DeviceAccountParams = IdParams.extend({ accountId: AdminId });
/** PUT …/secret: set or rotate; the answer says when, never what. */
export const DeviceSecretSet = z.strictObject({ secret: DeviceSecret });

// ---- device-secrets keys (jmp-ssh) ----

export const DevicePublicKey = z.string().regex(/^x25519:[A-Za-z0-9_-]{43}$/, 'must be x25519:<base64url of 32 bytes>');
export const DeviceKeyRegister = z.strictObject({ publicKey: DevicePublicKey });
export const DeviceKeyState = z.object({ version: z.number(), publicKey: z.string(), created: z.boolean() });
const Sealed = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
  .max(8192);
export const SealedSecret = z.object({
  accountId: z.number(),
  deviceId: z.number(),
  account: z.string(),
  keyVersion: z.number(),
  sealed: z.string(),
});
export const SealedSecretList = z.object({ version: z.number(), items: z.array(SealedSecret) });
/** The rotation: every sealed secret re-encrypted to the new key, in one transaction. */
export const DeviceKeyRotate = z.strictObject({
  fromVersion: z.number().int().positive(),
  publicKey: DevicePublicKey,
  items: z.array(z.strictObject({ accountId: RefId, sealed: Sealed, previous: Sealed })).max(100_000),
});
export const DeviceKeyRotated = z.object({ version: z.number(), reencrypted: z.number() });

// ---- opening a device (jmp-ssh) ----

export const DeviceSessionOpen = z.strictObject({
  id: z.string().uuid(),
  user: Username,
  device: DeviceName,
  account: DeviceAccountName.optional(),
  sourceAddress: z.string().max(64).optional(),
});
export const DeviceSessionGrant = z.object({
  session: z.string(),
  device: z.object({
    id: z.number(),
    name: z.string(),
    address: z.string(),
    port: z.number(),
    protocol: DeviceProtocol,
    hostKey: z.string().nullable(),
  }),
  profile: z.object({ name: z.string(), spec: DeviceProfileSpec }),
  account: z.object({ id: z.number(), name: z.string(), keyVersion: z.number(), sealed: z.string() }),
  /** The person may pin the device's host key (an administrator, and none is pinned yet). */
  mayPinHostKey: z.boolean(),
  reason: z.string(),
});
export const DeviceHostKeyPin = z.strictObject({ session: z.string().uuid(), hostKey: HostKeyLine });
export const DeviceEvent = z.strictObject({
  session: z.string().uuid(),
  event: z.enum(['login_failed', 'host_key_mismatch', 'prompt_timeout', 'unreachable', 'handshake_failed']),
  detail: Text.max(512),
});
export const MyDevicesQuery = z.object({ user: Username });
export const MyDevice = z.object({
  name: z.string(),
  protocol: DeviceProtocol,
  service: z.string().nullable(),
  state: HostState,
});
export const MyDevices = z.object({ items: z.array(MyDevice) });

export type DeviceSessionGrant = z.infer<typeof DeviceSessionGrant>;
export type DeviceSessionOpen = z.infer<typeof DeviceSessionOpen>;
export type MyDevice = z.infer<typeof MyDevice>;
export type SealedSecretList = z.infer<typeof SealedSecretList>;
