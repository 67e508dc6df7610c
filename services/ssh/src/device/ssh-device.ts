// Logs in to a network device over SSH as its device account. The profile's
// legacy algorithms are appended for this one connection (never to ssh2's
// global defaults); the host key is pinned (or pinned on an administrator's
// first use); the stored password is offered once (no lockout storm).
import ssh2, { type ClientChannel, type ConnectConfig } from 'ssh2';
import type { DeviceSessionGrant } from '@jmp/contract/schemas/devices';
import { DeviceError } from './errors.js';

export interface SshDeviceOptions {
  pty: { term: string; cols: number; rows: number };
  /** Connection and handshake budget. */
  timeoutMs: number;
}

export interface SshDevice {
  channel: ClientChannel;
  /** The key the device showed ("type base64"). */
  hostKey: string;
  close(): void;
}

/** "type base64" of an SSH public key blob (the type is the blob's first string). */
export function hostKeyLine(blob: Buffer): string {
  const n = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = blob.subarray(4, 4 + n).toString('latin1');
  return `${type} ${blob.toString('base64')}`;
}

type Algos = DeviceSessionGrant['profile']['spec']['algorithms'];

/** ssh2's `algorithms` with the profile's lists appended to its defaults. */
export function appendedAlgorithms(a: Algos): ConnectConfig['algorithms'] {
  const out: Record<string, { append: string[] }> = {};
  for (const k of ['kex', 'serverHostKey', 'cipher', 'hmac'] as const) {
    const list = a[k];
    if (list && list.length) out[k] = { append: list };
  }
  return out as ConnectConfig['algorithms'];
}

export function connectSshDevice(g: DeviceSessionGrant, secret: string, o: SshDeviceOptions): Promise<SshDevice> {
  const name = g.device.name;
  const client = new ssh2.Client();
  let shown = '';
  let mismatch = false;
  let unpinned = false;
  let authTries = 0;
  return new Promise<SshDevice>((resolve, reject) => {
    let settled = false;
    const fail = (e: DeviceError) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(e);
    };
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (unpinned) {
        fail(
          new DeviceError(
            'host_key_mismatch',
            `${name} has no pinned host key: an administrator must open it once (or set its host key) first`,
          ),
        );
      } else if (mismatch) {
        fail(
          new DeviceError(
            'host_key_mismatch',
            `${name}'s host key is not the pinned one (it shows ${shown.slice(0, 60)}…): refused; an administrator ` +
              'must check the device and update its host key',
          ),
        );
      } else if (err.level === 'client-authentication') {
        fail(
          new DeviceError(
            'login_failed',
            `${name} refused the stored secret of account ${g.account.name} (tried once, not again); ` +
              'an administrator must set the right one',
          ),
        );
      } else if (err.level === 'handshake' || /handshake/i.test(err.message)) {
        fail(
          new DeviceError(
            'handshake_failed',
            `${name} refused the SSH handshake with profile ${g.profile.name}: ${err.message.replace(/^Handshake failed: /, '')}`,
          ),
        );
      } else {
        fail(
          new DeviceError(
            'unreachable',
            `${name} (${g.device.address}:${g.device.port}) cannot be reached: ${err.message}`,
          ),
        );
      }
    });
    client.on('ready', () => {
      client.shell({ term: o.pty.term, cols: o.pty.cols, rows: o.pty.rows }, (err, channel) => {
        if (err) return fail(new DeviceError('unreachable', `${name} opened no shell: ${err.message}`));
        settled = true;
        resolve({ channel, hostKey: shown, close: () => client.end() });
      });
    });
    client.on('close', () => fail(new DeviceError('unreachable', `${name} closed the connection`)));
    client.connect({
      host: g.device.address,
      port: g.device.port,
      username: g.account.name,
      readyTimeout: o.timeoutMs,
      algorithms: appendedAlgorithms(g.profile.spec.algorithms),
      hostVerifier: (key: Buffer) => {
        shown = hostKeyLine(key);
        if (g.device.hostKey === null) {
          unpinned = !g.mayPinHostKey;
          return g.mayPinHostKey;
        }
        mismatch = shown !== g.device.hostKey;
        return !mismatch;
      },
      // One offer of the stored secret: password, or keyboard-interactive when that is all the device asks.
      authHandler: (methodsLeft, _partial, next) => {
        if (authTries++ > 0 || (methodsLeft && !methodsLeft.length)) return next(false as never);
        if (!methodsLeft || methodsLeft.includes('password'))
          return next({ type: 'password', username: g.account.name, password: secret });
        if (methodsLeft.includes('keyboard-interactive'))
          return next({
            type: 'keyboard-interactive',
            username: g.account.name,
            prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => secret)),
          });
        return next(false as never);
      },
    });
  });
}
