// Knex queries for target sessions and their commands. No rules here:
// routes.ts decides (limits, who may read what), this stores and loads.
import type { Knex } from 'knex';
import type { z } from 'zod';
import type { CommandRecord, SessionQuery } from '@jmp/contract/schemas/sessions';

type Verdict = CommandRecord['verdict'];

/** First key of the advisory lock taken while a person's live sessions are counted (the second is the user id). */
const SESSION_LIMIT_LOCK = 0x6a6d7073; // 'jmps'

/** A sessions row with its person's and host's names (null once they are deleted). */
export interface SessionRow {
  id: string;
  user_id: number | null;
  host_id: number | null;
  protocol: string;
  source_address: string | null;
  started_at: Date;
  ended_at: Date | null;
  bytes_in: string | number;
  bytes_out: string | number;
  end_reason: string | null;
  recording_uri: string | null;
  parent_session_id: string | null;
  username: string | null;
  hostname: string | null;
}

export interface CommandRow {
  id: string | number;
  at: Date;
  line: string;
  verdict: Verdict;
  rule_id: number | null;
}

/** What decisions about one session need: whose it is, when it started and ended, its recording. */
export interface SessionState {
  userId: number | null;
  startedAt: Date;
  endedAt: Date | null;
  recordingUri: string | null;
}

export async function sessionState(db: Knex, id: string): Promise<SessionState | undefined> {
  const r = await db('sessions').where({ id }).first('user_id', 'started_at', 'ended_at', 'recording_uri');
  return (
    r && { userId: r.user_id, startedAt: new Date(r.started_at), endedAt: r.ended_at, recordingUri: r.recording_uri }
  );
}

export async function userIdByName(db: Knex, username: string): Promise<number | undefined> {
  return (await db('users').where({ username }).first('id'))?.id;
}

export async function hostIdByName(db: Knex, hostname: string): Promise<number | undefined> {
  return (await db('hosts').where({ hostname }).first('id'))?.id;
}

export interface NewSession {
  id: string;
  userId: number;
  hostId: number;
  protocol: string;
  sourceAddress: string | null;
  parentSession: string | null;
}

/** Inserts a session; a repeated start of the same id is ignored. */
export async function insertSession(db: Knex, s: NewSession): Promise<void> {
  await db('sessions')
    .insert({
      id: s.id,
      user_id: s.userId,
      host_id: s.hostId,
      protocol: s.protocol,
      source_address: s.sourceAddress,
      parent_session_id: s.parentSession,
    })
    .onConflict('id')
    .ignore();
}

/** Serialises session starts of one person until the transaction ends, so a limit is counted once at a time. */
export async function lockUserSessions(trx: Knex.Transaction, userId: number): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(?, ?)', [SESSION_LIMIT_LOCK, userId]);
}

/** Ids of the person's sessions that have no end (started within a week), other than `exceptId`. */
export async function openSessionIds(db: Knex, userId: number, exceptId: string): Promise<string[]> {
  return (await db('sessions')
    .where({ user_id: userId })
    .whereNull('ended_at')
    .whereNot({ id: exceptId })
    .where('started_at', '>', db.raw("now() - interval '7 days'"))
    .pluck('id')) as string[];
}

export interface SessionEnd {
  bytesIn: number;
  bytesOut: number;
  endReason: string;
  recordingUri: string | null;
}

/** Ends a running session; returns false when there is no running session with that id. */
export async function endSession(db: Knex, id: string, e: SessionEnd): Promise<boolean> {
  const n = await db('sessions').where({ id }).whereNull('ended_at').update({
    ended_at: db.fn.now(),
    bytes_in: e.bytesIn,
    bytes_out: e.bytesOut,
    end_reason: e.endReason,
    recording_uri: e.recordingUri,
  });
  return n > 0;
}

export async function sessionExists(db: Knex, id: string): Promise<boolean> {
  return !!(await db('sessions').where({ id }).first('id'));
}

/** The people and host a session's commands are filed under. */
export interface SessionParties {
  user_id: number | null;
  host_id: number | null;
  username: string | null;
  hostname: string | null;
}

export async function sessionParties(db: Knex, id: string): Promise<SessionParties | undefined> {
  return db('sessions as s')
    .leftJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('hosts as h', 'h.id', 's.host_id')
    .where('s.id', id)
    .first('s.user_id', 's.host_id', 'u.username', 'h.hostname');
}

export interface NewCommand {
  at: string;
  line: string;
  verdict: Verdict;
  ruleId?: number | undefined;
}

export async function insertCommands(
  db: Knex,
  sessionId: string,
  s: SessionParties,
  commands: readonly NewCommand[],
): Promise<void> {
  await db('commands').insert(
    commands.map((cmd) => ({
      session_id: sessionId,
      user_id: s.user_id,
      host_id: s.host_id,
      at: cmd.at,
      line: cmd.line,
      verdict: cmd.verdict,
      rule_id: cmd.ruleId ?? null,
    })),
  );
}

export type SessionFilter = z.infer<typeof SessionQuery>;

/** Sessions joined with their names, filtered; `mine` restricts to one person's. */
function listQuery(db: Knex, q: SessionFilter, mine?: number) {
  const qb = db('sessions as s')
    .leftJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('hosts as h', 'h.id', 's.host_id');
  if (mine !== undefined) qb.where('s.user_id', mine);
  if (q.user) qb.where('u.username', q.user);
  if (q.host) qb.where('h.hostname', q.host);
  if (q.since) qb.where('s.started_at', '>=', q.since);
  if (q.until) qb.where('s.started_at', '<', q.until);
  if (q.verdict) {
    qb.whereExists((w) =>
      w.select(db.raw('1')).from('commands as c').whereRaw('c.session_id = s.id').where('c.verdict', q.verdict!),
    );
  }
  return qb;
}

/** One page of sessions, newest first, and how many match in all. */
export async function listSessions(
  db: Knex,
  q: SessionFilter,
  mine?: number,
): Promise<{ total: number; rows: SessionRow[] }> {
  const [counted] = await listQuery(db, q, mine).count<{ n: string }[]>('* as n');
  const rows: SessionRow[] = await listQuery(db, q, mine)
    .orderBy('s.started_at', 'desc')
    .limit(q.limit)
    .offset(q.offset)
    .select('s.*', 'u.username', 'h.hostname');
  return { total: Number(counted?.n ?? 0), rows };
}

export async function getSession(db: Knex, id: string): Promise<SessionRow | undefined> {
  return db('sessions as s')
    .leftJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('hosts as h', 'h.id', 's.host_id')
    .where('s.id', id)
    .first('s.*', 'u.username', 'h.hostname');
}

export async function commandsOf(db: Knex, sessionId: string): Promise<CommandRow[]> {
  return db('commands').where({ session_id: sessionId }).orderBy('at').orderBy('id');
}
