// One session on a target, piped between the person's channel and the
// target's: registered with jmp-api, heartbeated, ended on request.
import { randomUUID } from 'node:crypto';
import type { PseudoTtyInfo, ServerChannel } from 'ssh2';
import type { ApiClient, Logger } from '@jmp/common';
import type { MyHost } from '@jmp/common/contract/access';
import type { SshConfig } from '../config.js';
import { openTarget, TargetError } from '../target/connect.js';
import type { LiveSessions } from './live-sessions.js';

export interface SessionCtx {
  api: ApiClient; config: SshConfig; log: Logger; live: LiveSessions; instance: string;
  user: string; source: string; env: Record<string, string>;
  pty(): PseudoTtyInfo | undefined; setResize(f: ((p: PseudoTtyInfo) => void) | null): void; touch(): void;
}

/** Runs one target session over `channel`; resolves with the remote exit code. */
export async function targetSession(channel: ServerChannel, host: MyHost, command: string | undefined, ctx: SessionCtx): Promise<number> {
  const pty = ctx.pty();
  const id = randomUUID();
  const notice = (msg: string) => (pty ? channel : channel.stderr).write(`jmp: ${msg}\r\n`);
  let target;
  try {
    target = await openTarget(ctx.api, ctx.user, host.hostname, {
      port: ctx.config.targetPort, command, env: ctx.env, session: id,
      pty: pty ? { term: pty.term, cols: pty.cols, rows: pty.rows, width: pty.width, height: pty.height } : undefined,
    });
  } catch (err) {
    const msg = err instanceof TargetError ? err.message : `unexpected error: ${(err as Error).message}`;
    ctx.log.info({ user: ctx.user, host: host.hostname, reason: msg }, 'target login refused');
    notice(msg);
    return 1;
  }
  try {
    await ctx.api.sessionStarted({ id, user: ctx.user, host: host.hostname, protocol: 'ssh', sourceAddress: ctx.source, instance: ctx.instance });
  } catch (err) {
    // No session without its audit trail.
    target.close();
    ctx.log.error({ err: (err as Error).message, host: host.hostname }, 'could not register the session with jmp-api');
    notice('jmp-api could not record this session; try again shortly');
    return 1;
  }
  ctx.log.info({ user: ctx.user, host: host.hostname, session: id, source: ctx.source }, 'target session started');

  const { channel: remote } = target;
  let bytesIn = 0, bytesOut = 0, endReason = 'exit';
  ctx.setResize((p) => remote.setWindow(p.rows, p.cols, p.height, p.width));
  const toTarget = (d: Buffer) => { ctx.touch(); bytesIn += d.length; remote.write(d); };
  channel.on('data', toTarget);
  remote.on('data', (d: Buffer) => { ctx.touch(); bytesOut += d.length; channel.write(d); });
  remote.stderr.on('data', (d: Buffer) => { bytesOut += d.length; channel.stderr.write(d); });
  const code = await new Promise<number>((resolve) => {
    let exit = 0;
    ctx.live.add(id, (reason) => { endReason = 'terminated'; notice(`this session was ended: ${reason}`); target.close(); resolve(exit); });
    remote.on('exit', (c: number | null) => { exit = c ?? 0; });
    remote.on('close', () => resolve(exit));
    channel.once('close', () => { endReason = 'client closed'; target.close(); resolve(exit); });
  });
  ctx.live.remove(id);
  channel.removeListener('data', toTarget);
  ctx.setResize(null);
  target.close();
  await ctx.api.sessionEnded(id, { bytesIn, bytesOut, endReason }).catch((err) => ctx.log.error({ err: (err as Error).message, session: id }, 'could not record the end of the session'));
  ctx.log.info({ user: ctx.user, host: host.hostname, session: id, exit: code, reason: endReason }, 'target session ended');
  return code;
}
