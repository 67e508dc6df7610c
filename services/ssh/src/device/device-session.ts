// One session on a network device: jmp-api decides (the device right) before
// any connection is made and hands over the sealed account secret; it is
// opened here with the device key, offered once to the device, and never
// written to the person, the recording or the log. The session is guarded by
// the profile's rules through the same CommandGuard as shells, and recorded.
import { randomUUID, type KeyObject } from 'node:crypto';
import type { ClientChannel, ServerChannel } from 'ssh2';
import { ApiError, contract as c, type ApiClient } from '@jmp/contract';
import { openDeviceSecret } from '@jmp/contract/device-secrets';
import type { DeviceSessionGrant, MyDevice } from '@jmp/contract/schemas/devices';
import { CommandGuard, compileRules, type CompiledRules, type GuardEvent, type GuardRule } from '@jmp/guard';
import type { SessionCtx } from '../session/target-session.js';
import { endRecordedSession, pipeSession, startRecording } from '../session/session-steps.js';
import { DeviceError } from './errors.js';
import { connectSshDevice } from './ssh-device.js';
import { connectTelnetDevice, type TelnetDevice } from './telnet-device.js';
import { matcher } from './patterns.js';

/** The profile's rules as guard rules (ids name the profile, so the command log says where a rule came from). */
export function profileRules(g: DeviceSessionGrant): CompiledRules {
  const rules: GuardRule[] = g.profile.spec.rules.map((r, i) => ({
    id: `${g.profile.name}#${i + 1}`,
    name: r.name,
    pattern: r.pattern,
    action: r.action,
    severity: r.severity,
    list: 'deny',
  }));
  return compileRules(rules, { mode: g.profile.spec.mode });
}

export async function deviceSession(
  channel: ServerChannel,
  device: string,
  account: string | undefined,
  ctx: SessionCtx,
  deviceKey: KeyObject,
): Promise<number> {
  const pty = ctx.pty() ?? { term: 'vt100', cols: 80, rows: 24, width: 0, height: 0, modes: {} };
  const id = randomUUID();
  const notice = (msg: string) => channel.write(`jmp: ${msg}\r\n`);
  let grant: DeviceSessionGrant;
  try {
    grant = (
      await ctx.api.request('POST', '/v1/device-sessions', c.DeviceSessionGrant, {
        id,
        user: ctx.user,
        device,
        ...(account ? { account } : {}),
        sourceAddress: ctx.source.slice(0, 64),
      })
    ).data!;
  } catch (err) {
    notice(err instanceof ApiError ? err.message : `jmp-api could not be asked: ${(err as Error).message}`);
    return 1;
  }
  const report = (kind: string, detail: string) =>
    ctx.api
      .request('POST', '/v1/device-sessions/events', null, { session: id, event: kind, detail: detail.slice(0, 512) })
      .catch((err: unknown) => ctx.log.warn({ err, session: id }, 'could not report a device event'));
  const end = (endReason: string, extra: { bytesIn?: number; bytesOut?: number; recordingUri?: string } = {}) =>
    ctx.sessions.end(id, { bytesIn: extra.bytesIn ?? 0, bytesOut: extra.bytesOut ?? 0, endReason, ...extra });

  let secret: string;
  try {
    secret = openDeviceSecret(deviceKey, Buffer.from(grant.account.sealed, 'base64'), {
      deviceId: grant.device.id,
      account: grant.account.name,
      keyVersion: grant.account.keyVersion,
    });
  } catch {
    notice(
      `this jmp-ssh's device key cannot open the secret of ${grant.account.name} on ${device} (key version ${grant.account.keyVersion})`,
    );
    ctx.log.error(
      { session: id, device, keyVersion: grant.account.keyVersion },
      'device secret does not open with JMP_DEVICE_KEY',
    );
    await end('device key mismatch');
    return 1;
  }
  let link: { remote: ClientChannel; close(): void; hostKey?: string; telnet?: TelnetDevice };
  try {
    const o = {
      pty: { term: pty.term, cols: pty.cols, rows: pty.rows },
      timeoutMs: grant.profile.spec.promptTimeoutSeconds * 1000,
    };
    if (grant.device.protocol === 'telnet') {
      const t = await connectTelnetDevice(grant, secret, o);
      // The telnet channel has the members of an ssh2 ClientChannel the pipe uses (data, write, pause, setWindow, close).
      link = { remote: t.channel as unknown as ClientChannel, close: t.close, telnet: t };
    } else {
      const d = await connectSshDevice(grant, secret, o);
      link = { remote: d.channel, close: d.close, hostKey: d.hostKey };
    }
  } catch (err) {
    const e = err instanceof DeviceError ? err : new DeviceError('unreachable', (err as Error).message);
    notice(e.message);
    ctx.log.info({ session: id, user: ctx.user, device, kind: e.kind }, 'device login failed');
    await report(e.kind, e.message);
    await end(e.kind);
    return 1;
  } finally {
    secret = '';
  }
  const hostKey = link.hostKey;
  if (hostKey && grant.device.hostKey === null && grant.mayPinHostKey) {
    await ctx.api
      .request('POST', '/v1/device-sessions/host-key', null, { session: id, hostKey })
      .then(() => notice(`${device}'s host key is now pinned: ${hostKey.slice(0, 40)}…`))
      .catch((err: unknown) => ctx.log.warn({ err, session: id }, 'could not pin the device host key'));
  }
  ctx.log.info({ user: ctx.user, device, session: id, account: grant.account.name }, 'device session started');

  const rec = startRecording(ctx, id, device, pty);
  const onEvent = (e: GuardEvent) => {
    if (e.type === 'guard_refused') ctx.log.warn({ session: id, reason: e.reason }, 'guard refused a device command');
  };
  const guard = new CommandGuard({
    cols: pty.cols,
    rows: pty.rows,
    rules: profileRules(grant),
    failOpen: false,
    onEvent,
  });
  const remote = link.remote;
  const pipe = pipeSession(ctx, { sessionId: id, channel, remote, guard, rec });

  if (link.telnet) {
    link.telnet.channel.once('flood', () => notice(`${device} flooded the connection with telnet options: closed`));
  }
  // A device that never shows its prompt is closed with a clear line.
  const isPrompt = matcher(grant.profile.spec.prompt);
  let tail = '';
  let prompted = false;
  const onData = (b: Buffer) => {
    tail = (tail + b.toString('latin1')).slice(-256);
    if (isPrompt(tail)) {
      prompted = true;
      remote.removeListener('data', onData);
    }
  };
  remote.on('data', onData);
  link.telnet?.channel.replay(link.telnet.promptLine);
  let endReason = 'exit';
  let onClientClose = (): void => {};
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      if (prompted) return;
      endReason = 'prompt_timeout';
      const msg = `${device} showed no prompt within ${grant.profile.spec.promptTimeoutSeconds} s; the session is closed`;
      notice(msg);
      void report('prompt_timeout', msg);
      resolve();
    }, grant.profile.spec.promptTimeoutSeconds * 1000);
    ctx.sessions.track(id, (reason) => {
      endReason = 'terminated';
      notice(`this session was ended: ${reason}`);
      resolve();
    });
    remote.on('close', () => resolve());
    onClientClose = () => {
      endReason = 'client closed';
      resolve();
    };
    channel.once('close', onClientClose);
    remote.once('close', () => clearTimeout(timer));
    channel.once('close', () => clearTimeout(timer));
  });
  channel.removeListener('close', onClientClose);
  ctx.sessions.untrack(id);
  ctx.setResize(null);
  link.close();
  await pipe.close();
  await endRecordedSession(ctx, id, rec, endReason, pipe);
  ctx.log.info({ user: ctx.user, device, session: id, reason: endReason }, 'device session ended');
  return endReason === 'prompt_timeout' ? 1 : 0;
}

/** The devices the person may open (the jump shell's `devices`). */
export async function myDevices(api: ApiClient, user: string): Promise<MyDevice[]> {
  return (await api.request('GET', `/v1/my-devices?user=${encodeURIComponent(user)}`, c.MyDevices)).data!.items;
}
