// A jump given on the ssh command line: `ssh -t alice@jmp web-01` (an
// interactive session) or `ssh alice@jmp web-01 uptime` (one command). The
// first word names one of the person's hosts; the rest is the command.
import type { ServerChannel } from 'ssh2';
import type { MyHost } from '@jmp/contract/schemas/access';
import { findHost } from '../shell/menu.js';
import { targetSession, type SessionCtx } from './target-session.js';

/** Resolves with the exit code to send the person. */
export async function oneShot(channel: ServerChannel, command: string, ctx: SessionCtx): Promise<number> {
  const [name = '', ...rest] = command.trim().split(/\s+/);
  let hosts: MyHost[];
  try {
    hosts = await ctx.api.myHosts(ctx.user);
  } catch (err) {
    channel.stderr.write(`jmp: ${(err as Error).message}\r\n`);
    return 1;
  }
  const host = findHost(hosts, name.replace(/^[^@]*@/, ''));
  if (!host) {
    channel.stderr.write(`jmp: no host named ${name} among yours\r\n`);
    return 1;
  }
  return targetSession(channel, host, rest.length ? command.trim().slice(name.length).trim() : undefined, ctx);
}
