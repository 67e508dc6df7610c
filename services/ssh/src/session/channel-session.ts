// One SSH session channel of a logged-in person: what the client asks for
// before it starts (a terminal, its size, environment variables), then one of
// shell (the jump shell), exec (a one-shot jump), the sftp subsystem (the
// same proxy as jmp-sftp: one implementation, two doors) or another subsystem (refused), and
// the idle timer that ends the connection when nothing is typed. What a
// channel may carry is channel-policy.ts's rule; the target sessions it opens
// go through the session controller.
import type { PseudoTtyInfo, ServerChannel, Session } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { LiveSessions } from '@jmp/contract/live-sessions';
import type { Logger } from '@jmp/runtime';
import type { Recordings } from '@jmp/recording';
import { serveSftp, type FileAudit, type SftpLimits, type Staging } from '@jmp/sftp-proxy';
import type { SshConfig } from '../config.js';
import { acceptEnv, refuseSessionForwarding, refuseSubsystem } from '../server/channel-policy.js';
import { runJumpShell } from '../shell/jump-shell.js';
import type { SessionController } from './controller.js';
import { oneShot, type OneShotDoors } from './one-shot.js';
import { targetSession, type SessionCtx } from './target-session.js';
import { databaseSession } from '../database/db-session.js';
import { deviceKeyAt } from '../device/key.js';
import { deviceSession, myDevices } from '../device/device-session.js';

export interface ChannelSessionDeps {
  api: ApiClient;
  config: SshConfig;
  log: Logger;
  recordings: Recordings;
  sessions: SessionController;
  /** The logged-in person and the address they came from. */
  user: string;
  source: string;
  /** Ends the person's whole connection (the idle timeout). */
  endConnection(): void;
  /** The sftp subsystem's audit and limits; absent: refused like any subsystem. */
  sftp?: { audit: FileAudit; limits: SftpLimits; instance: string; live: LiveSessions; staging?: Staging | undefined };
}

export class ChannelSession {
  private pty: PseudoTtyInfo | undefined;
  private readonly env: Record<string, string> = {};
  private onResize: ((p: PseudoTtyInfo) => void) | null = null;
  /** The guard is chosen when the session starts (screen or stdin lines): no terminal or env after that. */
  private started = false;
  private idle: NodeJS.Timeout | undefined;
  private lastActive = 0;

  constructor(
    session: Session,
    private readonly deps: ChannelSessionDeps,
  ) {
    const { log, user } = deps;
    session.on('pty', (ok, no, p) => {
      if (this.started) no?.();
      else {
        this.pty = p;
        ok?.();
      }
    });
    session.on('window-change', (ok, _no, w) => {
      if (this.pty) {
        this.pty = { ...this.pty, ...w };
        this.onResize?.(this.pty);
      }
      ok?.();
    });
    session.on('env', (ok, no, e) => {
      if (!this.started && acceptEnv(e.key, e.val)) {
        this.env[e.key] = e.val;
        ok?.();
      } else no?.();
    });
    const sftp = deps.sftp;
    if (sftp) {
      session.on('sftp', (ok, no) => {
        if (this.started) return no?.();
        this.started = true;
        log.info({ user }, 'sftp subsystem');
        serveSftp(ok(), {
          api: deps.api,
          log,
          audit: sftp.audit,
          user,
          source: deps.source,
          instance: sftp.instance,
          live: sftp.live,
          targetPort: deps.config.targetPort,
          limits: sftp.limits,
          staging: sftp.staging,
        });
      });
    }
    session.on('subsystem', (ok, no, s) => {
      log.info({ user, subsystem: s.name }, 'refused: subsystem');
      if (this.started) no?.();
      else {
        this.started = true;
        refuseSubsystem(ok(), s.name);
      }
    });
    refuseSessionForwarding(session, log, user);
    session.once('shell', (ok) => this.run(ok(), undefined));
    session.once('exec', (ok, _no, e) => this.run(ok(), e.command));
  }

  /** The jump shell (no command) or a one-shot jump; the channel is closed with its exit code. */
  private run(channel: ServerChannel, command: string | undefined): void {
    this.started = true;
    const { api, config, log, recordings, sessions, user, source } = this.deps;
    const touch = () => this.touch(channel);
    touch();
    channel.on('data', touch);
    const done = (code: number) => {
      clearTimeout(this.idle);
      if (!channel.destroyed) {
        channel.exit(code);
        channel.end();
      }
    };
    const ctx: SessionCtx = {
      api,
      config,
      log,
      sessions,
      recordings,
      user,
      source,
      env: this.env,
      touch,
      pty: () => this.pty,
      setResize: (f) => {
        this.onResize = f;
      },
    };
    const keyPath = config.deviceKeyPath;
    const doors: OneShotDoors = {
      openDatabase: (host, kind) => databaseSession(channel, host, kind, ctx),
      ...(keyPath && {
        loadDevices: () => myDevices(api, user),
        openDevice: (name: string, account: string | undefined) =>
          deviceSession(channel, name, account, ctx, deviceKeyAt(keyPath)),
      }),
    };
    if (command === undefined) {
      runJumpShell(channel, {
        user,
        loadHosts: () => api.myHosts(user),
        connect: (host, cmd) => targetSession(channel, host, cmd, ctx),
        ...doors,
      }).then(
        () => {
          done(0);
        },
        (err: unknown) => {
          log.error({ err }, 'jump shell failed');
          done(1);
        },
      );
    } else {
      oneShot(channel, command, ctx, doors).then(done, () => done(1));
    }
  }

  /**
   * Input (or output the person receives) restarts the idle time; when it runs out the connection ends.
   * Called for every chunk, so it only notes the time: the one timer, when it fires early, waits out the rest.
   */
  private touch(channel: ServerChannel): void {
    this.lastActive = Date.now(); // several times per key: the cheapest clock (performance.now() is not)
    if (!this.idle) this.armIdle(channel, this.deps.config.idleTimeoutSeconds * 1000);
  }

  private armIdle(channel: ServerChannel, ms: number): void {
    this.idle = setTimeout(() => {
      const limit = this.deps.config.idleTimeoutSeconds * 1000;
      // A clock set back does not stretch the wait beyond one more idle time.
      const left = Math.min(limit, this.lastActive + limit - Date.now());
      if (left > 0) return this.armIdle(channel, left);
      const { config, log, user } = this.deps;
      const t = config.idleTimeoutSeconds;
      const span = t >= 120 ? `${Math.round(t / 60)} minutes` : `${t} seconds`;
      channel.write(`\r\njmp: idle for ${span}; disconnecting\r\n`);
      log.info({ user }, 'session ended: idle timeout');
      channel.exit(0);
      channel.end();
      this.deps.endConnection();
    }, ms);
    this.idle.unref();
  }
}
