// The session controller: the one place jmp-ssh asks whether a person may
// open a target session and tells jmp-api that one started or ended. The
// per-person limit is jmp-api's count of live sessions on every instance
// (sessionStarted with maxPerUser, under a per-user lock), never a count kept
// in this process; this instance's live sessions are heartbeated so that
// count stays true and an administrator's termination reaches them.
import { hostname } from 'node:os';
import { ApiError, type ApiClient } from '@jmp/contract';
import type { CommandRecord } from '@jmp/contract/schemas/sessions';
import type { Logger } from '@jmp/runtime';
import { LiveSessions } from '@jmp/contract/live-sessions';
import type { WatchTap } from './watch-tap.js';

export interface SessionControllerConfig {
  api: ApiClient;
  log: Logger;
  /** Live target sessions one person may have across all instances (JMP_SSH_MAX_SESSIONS_PER_USER). */
  maxSessionsPerUser: number;
  /** This process, as named to jmp-api in session records and heartbeats (default host:pid). */
  instance?: string;
  /** How often live sessions are named to jmp-api (default 1 s). */
  heartbeatMs?: number;
}

/** Validates the config and fills in defaults; throws on a value the controller cannot work with. */
export function checkAndSetDefaults(c: SessionControllerConfig): Required<SessionControllerConfig> {
  if (!Number.isInteger(c.maxSessionsPerUser) || c.maxSessionsPerUser < 1) {
    throw new Error(`session controller: maxSessionsPerUser must be a positive integer, not ${c.maxSessionsPerUser}`);
  }
  const heartbeatMs = c.heartbeatMs ?? 1000;
  if (!(heartbeatMs > 0)) throw new Error(`session controller: heartbeatMs must be positive, not ${heartbeatMs}`);
  return { ...c, instance: c.instance ?? `${hostname()}:${process.pid}`, heartbeatMs };
}

/** Who opens a session to which host, from where. */
export interface SessionStart {
  id: string;
  user: string;
  host: string;
  source: string;
}

export interface SessionEnd {
  bytesIn: number;
  bytesOut: number;
  endReason: string;
  recordingUri?: string;
}

/** Why a session may not start: a sentence for the person. */
export interface Refusal {
  refused: string;
}

export class SessionController {
  readonly instance: string;
  private readonly config: Required<SessionControllerConfig>;
  /** This instance's live sessions (the sftp subsystem's target sessions join them). */
  readonly live: LiveSessions;

  constructor(config: SessionControllerConfig) {
    this.config = checkAndSetDefaults(config);
    this.instance = this.config.instance;
    this.live = new LiveSessions(this.config.api, this.instance, this.config.log, this.config.heartbeatMs);
  }

  /**
   * Registers a session before its target is asked, so a refused target login
   * is on record too. Resolves null when it may go on, or with the sentence
   * why not: over the person's limit, or jmp-api could not record it (no
   * session without its audit trail).
   */
  async start(s: SessionStart): Promise<Refusal | null> {
    const { api, log, maxSessionsPerUser } = this.config;
    try {
      await api.sessionStarted({
        id: s.id,
        user: s.user,
        host: s.host,
        protocol: 'ssh',
        sourceAddress: s.source,
        instance: this.instance,
        maxPerUser: maxSessionsPerUser,
      });
      return null;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'conflict') {
        log.info({ user: s.user, host: s.host, reason: err.message }, 'session refused: per-person limit');
        return { refused: err.message };
      }
      log.error({ err, host: s.host }, 'could not register the session with jmp-api');
      return { refused: 'jmp-api could not record this session; try again shortly' };
    }
  }

  /** A one-shot command blocked before it ran: on record (started, its commands, ended), never counted as live. */
  async recordBlocked(s: SessionStart, commands: CommandRecord[]): Promise<void> {
    const { api, log } = this.config;
    try {
      await api.sessionStarted({
        id: s.id,
        user: s.user,
        host: s.host,
        protocol: 'ssh',
        sourceAddress: s.source,
        instance: this.instance,
      });
      await api.commands(s.id, commands);
      await api.sessionEnded(s.id, { bytesIn: 0, bytesOut: 0, endReason: 'blocked' });
    } catch (err) {
      log.error({ err }, 'could not record a blocked command');
    }
  }

  /** The session is running: heartbeated until untracked; `end` is called when an administrator ends it. */
  track(id: string, end: (reason: string) => void, tap?: WatchTap): void {
    this.live.add(id, end, tap);
  }

  untrack(id: string): void {
    this.live.remove(id);
  }

  /** The session ended: its place under the person's limit is freed in jmp-api. Never throws. */
  async end(id: string, e: SessionEnd): Promise<void> {
    await this.config.api
      .sessionEnded(id, e)
      .catch((err) => this.config.log.error({ err, session: id }, 'could not record the end of the session'));
  }
}
