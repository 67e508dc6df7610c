// jmp-ssh: the SSH server people log in to. Wires authentication, the jump
// shell and target sessions; limits connections, sessions and idle time.
import { randomUUID } from 'node:crypto';
import ssh2, { type Connection, type PseudoTtyInfo, type ServerChannel } from 'ssh2';
import type { ApiClient, Logger } from '@jmp/common';
import type { AuthUser } from '@jmp/common/contract/auth';
import type { MyHost } from '@jmp/common/contract/access';
import type { SshConfig } from '../config.js';
import { authenticator } from './authenticate.js';
import { runJumpShell } from '../shell/jump-shell.js';
import { findHost } from '../shell/menu.js';
import { openTarget, TargetError } from '../target/connect.js';

const PASSED_ENV = /^(TERM|LANG|LC_[A-Z]+|COLORTERM)$/;

export interface SshServerDeps { config: SshConfig; api: ApiClient; log: Logger; hostKey: Buffer }

export function createSshServer({ config, api, log, hostKey }: SshServerDeps): ssh2.Server {
  let connections = 0;
  const sessionsByUser = new Map<string, number>();

  return new ssh2.Server({ hostKeys: [hostKey], ident: 'jmp' }, (client: Connection, info) => {
    if (connections >= config.maxConnections) {
      log.warn({ source: info.ip, limit: config.maxConnections }, 'connection refused: too many connections');
      client.end();
      return;
    }
    connections++;
    let user: AuthUser | null = null;
    client.on('authentication', authenticator(api, log, () => info.ip, (u) => { user = u; }));
    client.on('error', (err) => log.debug({ err: err.message, source: info.ip }, 'client connection error'));
    client.on('close', () => { connections--; });
    client.on('ready', () => {
      const u = user!;
      log.info({ user: u.username, source: info.ip }, 'logged in to jmp');
      client.on('session', (accept) => {
        const session = accept();
        let pty: PseudoTtyInfo | undefined;
        const env: Record<string, string> = {};
        let onResize: ((p: PseudoTtyInfo) => void) | null = null;
        session.on('pty', (ok, _no, p) => { pty = p; ok?.(); });
        session.on('window-change', (ok, _no, w) => { if (pty) { pty = { ...pty, ...w }; onResize?.(pty); } ok?.(); });
        session.on('env', (ok, no, e) => { if (PASSED_ENV.test(e.key) && e.val.length < 256) { env[e.key] = e.val; ok?.(); } else no?.(); });
        const run = (channel: ServerChannel, command: string | undefined) => {
          const n = (sessionsByUser.get(u.username) ?? 0) + 1;
          if (n > config.maxSessionsPerUser) {
            channel.stderr.write(`jmp: you have ${n - 1} sessions open; the limit is ${config.maxSessionsPerUser}\r\n`);
            channel.exit(1); channel.end();
            return;
          }
          sessionsByUser.set(u.username, n);
          let idle: NodeJS.Timeout;
          const touch = () => {
            clearTimeout(idle);
            idle = setTimeout(() => {
              channel.write(`\r\njmp: idle for ${Math.round(config.idleTimeoutSeconds / 60)} minutes; disconnecting\r\n`);
              log.info({ user: u.username }, 'session ended: idle timeout');
              channel.exit(0); channel.end(); client.end();
            }, config.idleTimeoutSeconds * 1000);
            idle.unref();
          };
          touch();
          channel.on('data', touch);
          const done = (code: number) => {
            clearTimeout(idle);
            sessionsByUser.set(u.username, (sessionsByUser.get(u.username) ?? 1) - 1);
            if (!channel.destroyed) { channel.exit(code); channel.end(); }
          };
          const ctx = { api, config, log, user: u.username, source: info.ip, env, pty: () => pty, setResize: (f: typeof onResize) => { onResize = f; }, touch };
          if (command === undefined) {
            runJumpShell(channel, { user: u.username, loadHosts: () => api.myHosts(u.username), connect: (host, cmd) => targetSession(channel, host, cmd, ctx).then(() => {}) })
              .then(() => done(0), (err) => { log.error({ err: (err as Error).message }, 'jump shell failed'); done(1); });
          } else {
            oneShot(channel, command, ctx).then(done, () => done(1));
          }
        };
        session.once('shell', (ok) => run(ok(), undefined));
        session.once('exec', (ok, _no, e) => run(ok(), e.command));
      });
    });
  });
}

interface SessionCtx {
  api: ApiClient; config: SshConfig; log: Logger; user: string; source: string; env: Record<string, string>;
  pty(): PseudoTtyInfo | undefined; setResize(f: ((p: PseudoTtyInfo) => void) | null): void; touch(): void;
}

/** `ssh -t alice@jmp web-01` (interactive) or `ssh alice@jmp web-01 uptime` (one command). */
async function oneShot(channel: ServerChannel, command: string, ctx: SessionCtx): Promise<number> {
  const [name = '', ...rest] = command.trim().split(/\s+/);
  let hosts: MyHost[];
  try { hosts = await ctx.api.myHosts(ctx.user); } catch (err) { channel.stderr.write(`jmp: ${(err as Error).message}\r\n`); return 1; }
  const host = findHost(hosts, name.replace(/^[^@]*@/, ''));
  if (!host) { channel.stderr.write(`jmp: no host named ${name} among yours\r\n`); return 1; }
  return targetSession(channel, host, rest.length ? command.trim().slice(name.length).trim() : undefined, ctx);
}

/** One session on a target, piped to the person's channel; resolves with the exit code. */
async function targetSession(channel: ServerChannel, host: MyHost, command: string | undefined, ctx: SessionCtx): Promise<number> {
  const pty = ctx.pty();
  const sessionId = randomUUID();
  let target;
  try {
    target = await openTarget(ctx.api, ctx.user, host.hostname, {
      port: ctx.config.targetPort, command, env: ctx.env, session: sessionId,
      pty: pty ? { term: pty.term, cols: pty.cols, rows: pty.rows, width: pty.width, height: pty.height } : undefined,
    });
  } catch (err) {
    const msg = err instanceof TargetError ? err.message : `unexpected error: ${(err as Error).message}`;
    ctx.log.info({ user: ctx.user, host: host.hostname, reason: msg }, 'target login refused');
    (pty ? channel : channel.stderr).write(`jmp: ${msg}\r\n`);
    return 1;
  }
  ctx.log.info({ user: ctx.user, host: host.hostname, session: sessionId, source: ctx.source }, 'target session started');
  const { channel: remote } = target;
  ctx.setResize((p) => remote.setWindow(p.rows, p.cols, p.height, p.width));
  const toTarget = (d: Buffer) => { ctx.touch(); remote.write(d); };
  channel.on('data', toTarget);
  remote.on('data', (d: Buffer) => { ctx.touch(); channel.write(d); });
  remote.stderr.on('data', (d: Buffer) => channel.stderr.write(d));
  const code = await new Promise<number>((resolve) => {
    let exit = 0;
    remote.on('exit', (c: number | null) => { exit = c ?? 0; });
    remote.on('close', () => resolve(exit));
    channel.once('close', () => { target.close(); resolve(exit); });
  });
  channel.removeListener('data', toTarget);
  ctx.setResize(null);
  target.close();
  ctx.log.info({ user: ctx.user, host: host.hostname, session: sessionId, exit: code }, 'target session ended');
  return code;
}
