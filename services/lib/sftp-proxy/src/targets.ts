// The target connections of one SFTP session: one per host, opened on the
// first access to /<host> (a session record, then a one-time ticket and the
// person's own SFTP subsystem on the target, through @jmp/ssh-target), shared
// by every request for that host, and closed after an idle time without open
// handles or requests. A target that dies is forgotten: the next access logs in anew.
import { randomUUID } from 'node:crypto';
import type { SFTPWrapper } from 'ssh2';
import { ApiError, type ApiClient } from '@jmp/contract';
import type { LiveSessions } from '@jmp/contract/live-sessions';
import type { FileTransferMode } from '@jmp/contract/schemas/files';
import { FileTransferPolicy } from '@jmp/contract/schemas/files';
import type { Logger } from '@jmp/runtime';
import { openTargetSftp, TargetError } from '@jmp/ssh-target';
import type { FileAudit } from './audit.js';

export interface TargetPoolOptions {
  api: ApiClient;
  log: Logger;
  audit: FileAudit;
  user: string;
  source: string;
  /** This process, as named in session records. */
  instance: string;
  /** This process's live sessions: target sessions are named to jmp-api while open, and end when terminated. */
  live: LiveSessions;
  targetPort: number;
  /** A target with no open handle and no request for this long is closed. */
  idleMs: number;
}

export class Target {
  bytesRead = 0;
  bytesWritten = 0;
  /** Open handles and requests in flight: the idle timer runs only at zero. */
  private busy = 0;
  private idle: NodeJS.Timeout | undefined;
  closed = false;

  constructor(
    readonly host: string,
    readonly session: string,
    readonly sftp: SFTPWrapper,
    readonly mode: FileTransferMode,
    private readonly onIdle: () => void,
    private readonly idleMs: number,
  ) {
    this.arm();
  }

  hold(): void {
    this.busy++;
    clearTimeout(this.idle);
  }

  release(): void {
    if (--this.busy <= 0) {
      this.busy = 0;
      this.arm();
    }
  }

  private arm(): void {
    clearTimeout(this.idle);
    if (this.closed) return;
    this.idle = setTimeout(this.onIdle, this.idleMs);
    this.idle.unref();
  }

  stopTimer(): void {
    clearTimeout(this.idle);
  }
}

/** Why a target cannot be used: a status for the client. */
export class TargetRefusal extends Error {
  constructor(
    message: string,
    readonly kind: 'denied' | 'unreachable',
  ) {
    super(message);
  }
}

export class TargetPool {
  private readonly targets = new Map<string, Promise<Target>>();
  private readonly close_ = new Map<string, (reason: string) => void>();
  /** Called when a target's connection is lost while open (not when it is closed here). */
  onLost: ((t: Target) => void) | undefined;

  constructor(private readonly o: TargetPoolOptions) {}

  /** The open target for `host`, logging in on first use. Call only for hosts the person may log in to. */
  get(host: string): Promise<Target> {
    let t = this.targets.get(host);
    if (!t) {
      t = this.open(host);
      this.targets.set(host, t);
      t.catch(() => this.targets.delete(host));
    }
    return t;
  }

  /** True while a target connection to `host` is open (or opening). */
  has(host: string): boolean {
    return this.targets.has(host);
  }

  /** Closes every target (the person's connection ended). */
  closeAll(reason: string): void {
    for (const host of [...this.close_.keys()]) this.end(host, reason);
  }

  private end(host: string, reason: string): void {
    const f = this.close_.get(host);
    this.close_.delete(host);
    this.targets.delete(host);
    f?.(reason);
  }

  private async open(host: string): Promise<Target> {
    const { api, log, audit, user, source, instance } = this.o;
    let mode: FileTransferMode;
    try {
      const policy = FileTransferPolicy.parse(
        (await api.request('GET', `/v1/file-operations/policy?host=${encodeURIComponent(host)}`, FileTransferPolicy))
          .data,
      );
      mode = policy.mode;
    } catch (err) {
      throw new TargetRefusal(refusalText(err, host), 'unreachable');
    }
    const session = randomUUID();
    try {
      await api.sessionStarted({ id: session, user, host, protocol: 'sftp', sourceAddress: source, instance });
    } catch (err) {
      // No target session without its record.
      throw new TargetRefusal(refusalText(err, host), 'unreachable');
    }
    let conn;
    try {
      conn = await openTargetSftp(api, user, host, { port: this.o.targetPort, session });
    } catch (err) {
      const msg = err instanceof TargetError ? err.message : (err as Error).message;
      audit.sessionEnded(session, { bytesIn: 0, bytesOut: 0, endReason: 'target login refused' });
      log.info({ user, host, err: msg }, 'sftp target login refused');
      throw new TargetRefusal(msg, 'denied');
    }
    log.info({ user, host, session }, 'sftp target session opened');
    let ended = false;
    const target = new Target(host, session, conn.sftp, mode, () => this.end(host, 'idle'), this.o.idleMs);
    const finish = (reason: string) => {
      if (ended) return;
      ended = true;
      target.closed = true;
      target.stopTimer();
      this.o.live.remove(session);
      conn.close();
      audit.sessionEnded(session, {
        bytesIn: target.bytesWritten,
        bytesOut: target.bytesRead,
        endReason: reason,
      });
      log.info(
        { user, host, session, reason, read: target.bytesRead, written: target.bytesWritten },
        'sftp target session ended',
      );
    };
    this.close_.set(host, finish);
    this.o.live.add(session, () => this.end(host, 'terminated'));
    conn.client.on('close', () => {
      if (!ended) {
        this.close_.delete(host);
        this.targets.delete(host);
        finish('target connection lost');
        this.onLost?.(target);
      }
    });
    conn.sftp.on('error', (err: Error) => log.debug({ err: err.message, host }, 'target sftp error'));
    return target;
  }
}

function refusalText(err: unknown, host: string): string {
  if (err instanceof ApiError) {
    if (err.code === 'unavailable')
      return `jmp is unavailable right now, so no new login to ${host}; try again shortly`;
    return err.message;
  }
  return `cannot reach ${host}: ${(err as Error).message}`;
}
