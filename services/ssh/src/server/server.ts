// jmp-ssh: the SSH server people log in to. Wires authentication, the jump
// shell and target sessions; limits connections, sessions and idle time.
import { hostname } from 'node:os';
import ssh2, { type Connection, type PseudoTtyInfo, type ServerChannel } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { AuthUser } from '@jmp/contract/schemas/auth';
import type { MyHost } from '@jmp/contract/schemas/access';
import type { SshConfig } from '../config.js';
import { authenticator } from './authenticate.js';
import { serverAlgorithmOptions } from './algorithms.js';
import { runJumpShell } from '../shell/jump-shell.js';
import { findHost } from '../shell/menu.js';
import { targetSession, type SessionCtx } from '../session/target-session.js';
import { LiveSessions } from '../session/live-sessions.js';
import { acceptEnv, refuseForwarding, refuseSessionForwarding, refuseSubsystem } from './channel-policy.js';
import type { Recordings } from '@jmp/recording';

export interface SshServerDeps { config: SshConfig; api: ApiClient; log: Logger; hostKey: Buffer; recordings: Recordings }

export function createSshServer({ config, api, log, hostKey, recordings }: SshServerDeps): ssh2.Server {
  let connections = 0;
  const sessionsByUser = new Map<string, number>();
  const instance = `${hostname()}:${process.pid}`;
  const live = new LiveSessions(api, instance, log);

  return new ssh2.Server({ hostKeys: [hostKey], ident: 'jmp', ...serverAlgorithmOptions() }, (client: Connection, info) => {
    if (connections >= config.maxConnections) {
      log.warn({ source: info.ip, limit: config.maxConnections }, 'connection refused: too many connections');
      client.end();
      return;
    }
    connections++;
    let user: AuthUser | null = null;
    refuseForwarding(client, log, () => user?.username ?? '(not logged in)');
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
        // The guard is chosen when the session starts (screen or stdin lines): no terminal or env after that.
        let started = false;
        session.on('pty', (ok, no, p) => { if (started) no?.(); else { pty = p; ok?.(); } });
        session.on('window-change', (ok, _no, w) => { if (pty) { pty = { ...pty, ...w }; onResize?.(pty); } ok?.(); });
        session.on('env', (ok, no, e) => { if (!started && acceptEnv(e.key, e.val)) { env[e.key] = e.val; ok?.(); } else no?.(); });
        session.on('subsystem', (ok, no, s) => {
          log.info({ user: u.username, subsystem: s.name }, 'refused: subsystem');
          if (started) no?.();
          else { started = true; refuseSubsystem(ok(), s.name); }
        });
        refuseSessionForwarding(session, log, u.username);
        const run = (channel: ServerChannel, command: string | undefined) => {
          started = true;
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
              const t = config.idleTimeoutSeconds;
              channel.write(`\r\njmp: idle for ${t >= 120 ? `${Math.round(t / 60)} minutes` : `${t} seconds`}; disconnecting\r\n`);
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
          const ctx: SessionCtx = { api, config, log, live, recordings, instance, user: u.username, source: info.ip, env, pty: () => pty, setResize: (f: typeof onResize) => { onResize = f; }, touch };
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


/** `ssh -t alice@jmp web-01` (interactive) or `ssh alice@jmp web-01 uptime` (one command). */
async function oneShot(channel: ServerChannel, command: string, ctx: SessionCtx): Promise<number> {
  const [name = '', ...rest] = command.trim().split(/\s+/);
  let hosts: MyHost[];
  try { hosts = await ctx.api.myHosts(ctx.user); } catch (err) { channel.stderr.write(`jmp: ${(err as Error).message}\r\n`); return 1; }
  const host = findHost(hosts, name.replace(/^[^@]*@/, ''));
  if (!host) { channel.stderr.write(`jmp: no host named ${name} among yours\r\n`); return 1; }
  return targetSession(channel, host, rest.length ? command.trim().slice(name.length).trim() : undefined, ctx);
}
