// `jmp-ssh device-key rotate`: a new device key, and every sealed secret
// re-encrypted to it in place (jmp-api swaps them all in one audited
// transaction). Only the holder of the old private key can do this: jmp-api
// never sees a secret. The new key is on disk before jmp-api commits, so a
// crash in between loses nothing; the old key is kept beside it.
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { ApiClient, serviceApiClient, contract as c } from '@jmp/contract';
import {
  generateDeviceKeyPair,
  openDeviceSecret,
  parseDevicePrivateKey,
  sealDeviceSecret,
} from '@jmp/contract/device-secrets';
import { loadConfigOrExit } from '@jmp/runtime';
import { sshConfigSpec, sshDeviceConfigSpec } from '../config.js';
import { loadOrCreateDeviceKey } from './key.js';

export async function rotateDeviceKey(
  api: ApiClient,
  keyPath: string,
): Promise<{ version: number; reencrypted: number }> {
  if (!existsSync(keyPath)) throw new Error(`there is no device key at ${keyPath} to rotate`);
  const old = loadOrCreateDeviceKey(keyPath);
  const list = (await api.request('GET', '/v1/device-keys/sealed', c.SealedSecretList)).data!;
  const next = generateDeviceKeyPair();
  const version = list.version + 1;
  const items = list.items.map((i) => {
    const plain = openDeviceSecret(old, Buffer.from(i.sealed, 'base64'), i);
    const sealed = sealDeviceSecret(next.publicKey, plain, {
      deviceId: i.deviceId,
      account: i.account,
      keyVersion: version,
    });
    return { accountId: i.accountId, sealed: sealed.toString('base64'), previous: i.sealed };
  });
  const pending = `${keyPath}.next`;
  writeFileSync(pending, next.privatePem, { mode: 0o600 });
  parseDevicePrivateKey(next.privatePem);
  let done: { version: number; reencrypted: number };
  try {
    done = (
      await api.request('POST', '/v1/device-keys/rotate', c.DeviceKeyRotated, {
        fromVersion: list.version,
        publicKey: next.publicKey,
        items,
      })
    ).data!;
  } catch (err) {
    unlinkSync(pending);
    throw err;
  }
  renameSync(keyPath, `${keyPath}.v${list.version}`);
  renameSync(pending, keyPath);
  return done;
}

const USAGE = `usage: jmp-ssh device-key rotate

Makes a new device key (JMP_DEVICE_KEY), re-encrypts every device secret to it
through jmp-api (one audited transaction) and keeps the old key as
JMP_DEVICE_KEY.v<version>. Copy the new key file to every jmp-ssh instance;
running instances read it again when it changes.
`;

/** The `device-key` subcommand; resolves with the exit code. */
export async function deviceKeyCommand(args: string[]): Promise<number> {
  if (args[0] !== 'rotate' || args.length > 1) {
    process.stderr.write(USAGE);
    return args[0] === '--help' || args[0] === '-h' ? 0 : 2;
  }
  const config = { ...loadConfigOrExit('jmp-ssh', sshConfigSpec), ...loadConfigOrExit('jmp-ssh', sshDeviceConfigSpec) };
  const api = serviceApiClient(config, 60_000);
  try {
    const r = await rotateDeviceKey(api, config.deviceKeyPath);
    process.stdout.write(
      `device key version ${r.version}: ${r.reencrypted} secrets re-encrypted; ${config.deviceKeyPath} is the new key\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`jmp-ssh device-key rotate: ${(err as Error).message}\n`);
    return 1;
  }
}
