// jmp-ssh's device key: the X25519 private half that opens device secrets,
// made once like the host key (0600, every instance shares the file), and its
// public half registered with jmp-api, which seals new secrets to it.
import { readFileSync, statSync } from 'node:fs';
import { createKeyFileOnce } from '@jmp/ssh-server/host-key';
import type { KeyObject } from 'node:crypto';
import { ApiError, type ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import { contract as c } from '@jmp/contract';
import { generateDeviceKeyPair, parseDevicePrivateKey, publicOf } from '@jmp/contract/device-secrets';

/** The key at `path`, created if missing like the host key (createKeyFileOnce). */
export function loadOrCreateDeviceKey(path: string): KeyObject {
  createKeyFileOnce(path, () => generateDeviceKeyPair().privatePem);
  try {
    return parseDevicePrivateKey(readFileSync(path));
  } catch (err) {
    throw new Error(`device key ${path} is not usable (${(err as Error).message}); restore it from another instance`, {
      cause: err,
    });
  }
}

/** Registers the public half; jmp-api refuses a key other than the registered one (rotate instead). */
export async function registerDeviceKey(
  api: ApiClient,
  key: KeyObject,
): Promise<{ version: number; created: boolean }> {
  const r = await api.request('POST', '/v1/device-keys', c.DeviceKeyState, { publicKey: publicOf(key) });
  return r.data!;
}

const loaded = new Map<string, { key: KeyObject; mtimeMs: number }>();

/** The device key at `path`, read again when the file changes (a rotation copied in). */
export function deviceKeyAt(path: string): KeyObject {
  const mtimeMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const k = loaded.get(path);
  if (k && k.mtimeMs === mtimeMs) return k.key;
  const key = loadOrCreateDeviceKey(path);
  loaded.set(path, { key, mtimeMs: statSync(path).mtimeMs });
  return key;
}

/** Registers the key, retrying while jmp-api cannot be reached (a refusal is logged and not retried). */
export function registerDeviceKeyInBackground(api: ApiClient, key: KeyObject, log: Logger, retryMs = 30_000): void {
  const attempt = () =>
    registerDeviceKey(api, key).then(
      (k) => log.info({ version: k.version, created: k.created }, 'device key registered with jmp-api'),
      (err: unknown) => {
        const refused = err instanceof ApiError && err.httpStatus === 409;
        log.error({ err }, refused ? 'device key refused by jmp-api' : 'device key not registered yet; retrying');
        if (!refused) setTimeout(() => void attempt(), retryMs).unref();
      },
    );
  void attempt();
}
