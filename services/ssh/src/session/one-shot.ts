// A jump given on the ssh command line: `ssh -t alice@jmp web-01` (an
// interactive session) or `ssh alice@jmp web-01 uptime` (one command). The
// first word names one of the person's hosts; the rest is the command.
// Otherwise the line is one of the jump shell's own commands, answered the
// same way: `ssh -t alice@jmp mysql db-01`, `… redis db-01`, `… device sw1`,
// `… databases`, `… devices`, `… info web-01`, `… help`. A host's name wins
// over a command word.
import type { ServerChannel } from 'ssh2';
import type { MyHost } from '@jmp/contract/schemas/access';
import type { MyDevice } from '@jmp/contract/schemas/devices';
import { describeHost, findHost, HELP, parseCommand, renderDatabases, renderDevices } from '../shell/menu.js';
import { targetSession, type SessionCtx } from './target-session.js';

/** The sessions besides a host's shell that this jmp-ssh can open (each resolves with the exit code). */
export interface OneShotDoors {
  openDatabase(host: MyHost, kind: 'mariadb' | 'redis'): Promise<number>;
  loadDevices?: () => Promise<MyDevice[]>;
  openDevice?: (name: string, account: string | undefined) => Promise<number>;
}

/** Resolves with the exit code to send the person. */
export async function oneShot(
  channel: ServerChannel,
  command: string,
  ctx: SessionCtx,
  doors: OneShotDoors,
): Promise<number> {
  const line = command.trim();
  const [name = '', ...rest] = line.split(/\s+/);
  const fail = (msg: string) => {
    channel.stderr.write(`jmp: ${msg}\r\n`);
    return 1;
  };
  let hosts: MyHost[];
  try {
    hosts = await ctx.api.myHosts(ctx.user);
  } catch (err) {
    return fail((err as Error).message);
  }
  const host = findHost(hosts, name.replace(/^[^@]*@/, ''));
  if (host) return targetSession(channel, host, rest.length ? line.slice(name.length).trim() : undefined, ctx);
  const cmd = parseCommand(line, hosts);
  switch (cmd.kind) {
    case 'connect':
      return targetSession(channel, cmd.host, cmd.command, ctx);
    case 'database':
      return doors.openDatabase(cmd.host, cmd.db);
    case 'device':
      return doors.openDevice
        ? doors.openDevice(cmd.name, cmd.account)
        : fail('network devices are not available here');
    case 'devices':
      if (!doors.loadDevices) return fail('network devices are not available here');
      try {
        channel.write(renderDevices(await doors.loadDevices()));
        return 0;
      } catch (err) {
        return fail((err as Error).message);
      }
    case 'databases':
      channel.write(renderDatabases(hosts));
      return 0;
    case 'info':
      channel.write(describeHost(cmd.host));
      return 0;
    case 'help':
      channel.write(HELP);
      return 0;
    case 'error':
      return fail(cmd.message);
    case 'list':
    case 'exit':
    case 'filter':
      return fail(`no host named ${name} among yours`);
  }
}
