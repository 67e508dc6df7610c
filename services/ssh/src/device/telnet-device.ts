// Logs in to a telnet device with the profile's login sequence: wait for each
// step's pattern, send the account or the secret, then wait for the prompt.
// Nothing the device writes before its prompt reaches the person or the
// recording (a device that echoes the password echoes it into nothing); a
// failure line or a second login prompt ends the attempt (one try).
import { connect } from 'node:net';
import type { DeviceSessionGrant } from '@jmp/contract/schemas/devices';
import { DeviceError } from './errors.js';
import { matcher } from './patterns.js';
import { TelnetChannel } from './telnet-channel.js';

export interface TelnetDevice {
  channel: TelnetChannel;
  /** The device's output line that holds its prompt, for the person's screen. */
  promptLine: Buffer;
  close(): void;
}

export function connectTelnetDevice(
  g: DeviceSessionGrant,
  secret: string,
  o: { pty: { term: string; cols: number; rows: number }; timeoutMs: number },
): Promise<TelnetDevice> {
  const name = g.device.name;
  const spec = g.profile.spec;
  const steps = spec.login.map((s) => ({ ...s, test: matcher(s.expect) }));
  const isPrompt = matcher(spec.prompt);
  const isFailure = matcher(spec.failure);
  const isPaging = spec.paging ? matcher(spec.paging) : () => false;
  return new Promise<TelnetDevice>((resolve, reject) => {
    const socket = connect({ host: g.device.address, port: g.device.port });
    const ch = new TelnetChannel(socket, o.pty);
    let step = 0;
    let sentSecret = false;
    let tail = Buffer.alloc(0);
    let settled = false;
    const fail = (e: DeviceError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ch.removeListener('data', onData);
      ch.close();
      reject(e);
    };
    let timer = setTimeout(() => fail(timeout()), o.timeoutMs);
    const timeout = () =>
      new DeviceError(
        'prompt_timeout',
        step < steps.length
          ? `${name} showed no login prompt (${steps[step]!.send === 'secret' ? 'password' : 'login'}) within ${o.timeoutMs / 1000} s`
          : `${name} showed no prompt within ${o.timeoutMs / 1000} s after the login`,
      );
    const advance = () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(timeout()), o.timeoutMs);
      tail = Buffer.alloc(0);
    };
    const onData = (d: Buffer) => {
      tail = Buffer.concat([tail, d]).subarray(-2048);
      const text = tail.toString('latin1');
      const lastLine = text.slice(text.lastIndexOf('\n') + 1);
      if (sentSecret && isFailure(text))
        return fail(
          new DeviceError(
            'login_failed',
            `${name} refused the stored secret of account ${g.account.name} (tried once, not again); an administrator must set the right one`,
          ),
        );
      if (step < steps.length) {
        if (!steps[step]!.test(lastLine)) return;
        if (sentSecret && steps[step]!.send === 'account') return; // not reached: steps run once
        ch.write(`${steps[step]!.send === 'secret' ? secret : g.account.name}\r\n`);
        if (steps[step]!.send === 'secret') sentSecret = true;
        step++;
        return advance();
      }
      if (isPaging(lastLine)) return void ch.write(' ');
      // A login prompt again after the secret: refused without a failure line.
      if (steps[0]?.test(lastLine))
        return fail(
          new DeviceError(
            'login_failed',
            `${name} asked for the login again: it refused the stored secret of account ${g.account.name} (tried once, not again)`,
          ),
        );
      if (isPrompt(lastLine)) {
        settled = true;
        clearTimeout(timer);
        ch.removeListener('data', onData);
        resolve({ channel: ch, promptLine: Buffer.from(lastLine, 'latin1'), close: () => ch.close() });
      }
    };
    ch.on('data', onData);
    ch.once('flood', () =>
      fail(new DeviceError('unreachable', `${name} flooded the connection with telnet options: closed`)),
    );
    ch.on('error', (err: Error) =>
      fail(
        new DeviceError(
          'unreachable',
          `${name} (${g.device.address}:${g.device.port}) cannot be reached: ${err.message}`,
        ),
      ),
    );
    ch.once('close', () => fail(new DeviceError('unreachable', `${name} closed the connection during the login`)));
  });
}
