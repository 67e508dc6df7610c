// Keeps the local MariaDB accounts of jmp users in step with the policy
// snapshot (mariadb-plan.ts says what; this reads the server's state and
// applies it, as root over the local socket). A host without MariaDB (no
// socket) is skipped quietly; a failure is logged and retried at the next
// snapshot or interval. Connections of a person whose right shrank or went
// are ended, so a revoked right does not linger in an open session.
import { existsSync } from 'node:fs';
import type { Logger } from '@jmp/runtime';
import type { PolicyUser } from '../policy/store.js';
import { runClient } from './client-exec.js';
import { planMariadb, quoteName, type DbLevel, type MariadbState } from './mariadb-plan.js';

export interface MariadbSyncConfig {
  socket: string;
  client: string;
}

export interface SyncOutcome {
  state: 'absent' | 'synced' | 'failed';
  accounts?: number;
  reduced?: string[];
  foreign?: string[];
  error?: string;
}

const STATE_SQL = `SELECT 'U', User FROM mysql.global_priv WHERE Host = 'localhost';
SELECT 'R', User, Role FROM mysql.roles_mapping WHERE Host = 'localhost' AND Role IN ('jmp_read', 'jmp_write', 'jmp_admin')
  AND Admin_option = 'N';
SELECT 'D', SCHEMA_NAME FROM information_schema.SCHEMATA;`;

export class MariadbAccounts {
  private running: Promise<SyncOutcome> | null = null;
  private again = false;

  constructor(
    private readonly c: MariadbSyncConfig,
    private readonly log: Logger,
  ) {}

  /** Syncs now, or once more right after a sync already running (never two at once). */
  sync(users: readonly PolicyUser[]): Promise<SyncOutcome> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.syncOnce(users).finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.sync(users);
      }
    });
    return this.running;
  }

  private async syncOnce(users: readonly PolicyUser[]): Promise<SyncOutcome> {
    if (!existsSync(this.c.socket)) return { state: 'absent' };
    const desired = new Map<string, DbLevel>();
    for (const u of users) if (u.login && u.db?.mariadb) desired.set(u.username, u.db.mariadb);
    try {
      const state = await this.readState();
      const plan = planMariadb(state, desired);
      await this.sql(plan.sql.map((s) => `${s};`).join('\n'));
      if (plan.reduced.length) await this.endConnections(plan.reduced);
      for (const f of plan.foreign)
        this.log.warn({ user: f }, 'MariaDB account exists and was not created by jmp; left unchanged');
      if (plan.reduced.length) this.log.info({ users: plan.reduced }, 'MariaDB rights reduced or removed');
      return {
        state: 'synced',
        accounts: desired.size - plan.foreign.length,
        reduced: plan.reduced,
        foreign: plan.foreign,
      };
    } catch (err) {
      this.log.warn({ err }, 'MariaDB accounts could not be synced');
      return { state: 'failed', error: (err as Error).message };
    }
  }

  private async readState(): Promise<MariadbState> {
    const localUsers = new Set<string>();
    const jmpRoles = new Map<string, string[]>();
    const databases: string[] = [];
    for (const line of (await this.sql(STATE_SQL)).split('\n')) {
      const [kind, a, b] = line.split('\t');
      if (kind === 'U' && a) localUsers.add(a);
      else if (kind === 'R' && a && b) jmpRoles.set(a, [...(jmpRoles.get(a) ?? []), b]);
      else if (kind === 'D' && a) databases.push(a);
    }
    return { localUsers, jmpRoles, databases };
  }

  private async endConnections(users: string[]): Promise<void> {
    const ids = await this.sql(
      `SELECT ID FROM information_schema.PROCESSLIST WHERE USER IN (${users.map(quoteName).join(', ')});`,
    );
    const kills = ids
      .split('\n')
      .filter((l) => /^\d+$/u.test(l))
      .map((id) => `KILL CONNECTION ${id};`);
    // A connection may end on its own meanwhile: --force keeps going past "unknown thread".
    if (kills.length) await this.sql(kills.join('\n'), ['--force']);
  }

  private async sql(input: string, extra: string[] = []): Promise<string> {
    const args = [
      '--protocol=socket',
      `--socket=${this.c.socket}`,
      '--user=root',
      '--batch',
      '--skip-column-names',
      ...extra,
    ];
    const r = await runClient(this.c.client, args, input);
    if (r.code !== 0 && !extra.includes('--force'))
      throw new Error(`${this.c.client} exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
    return r.stdout;
  }
}
