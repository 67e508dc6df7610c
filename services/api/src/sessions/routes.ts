// Target sessions as jmp-ssh reports them: start, commands with verdicts, end;
// a live registry fed by heartbeats; administrators end sessions; auditors list them.
import { JmpError, contract as c } from '@jmp/common';
import { z } from 'zod';
import type { RouteModule } from '../http/app.js';
import { actorOf, SESSION_OPENERS } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import { rulesForHost } from './host-rules.js';
import { heartbeat, liveFlags, markEnded, requestEnd } from './live.js';
import { recordingRoutes } from './recording.js';
import { recordingUriProblem } from './recording-uri.js';

const IdParam = z.object({ id: z.string().uuid() });
/** First key of the advisory lock taken while a person's live sessions are counted (the second is the user id). */
const SESSION_LIMIT_LOCK = 0x6a6d7073; // 'jmps'
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export const sessionRoutes: RouteModule = (api, ctx, auth) => {
  // Least privilege (docs/decisions.md): sessions are reported by the services
  // that open them; commands and guard rules exist only in jmp-ssh's shells.
  const service = auth.service(...SESSION_OPENERS);
  const shell = auth.service('ssh');
  const tags = ['sessions'];
  /** A hop's session hangs off a live session of the same person, never someone else's. */
  const mustBeLiveParent = async (id: string, userId: number, username: string) => {
    const p = await ctx.db('sessions').where({ id }).first('user_id', 'ended_at');
    const [live] = p && p.user_id === userId && !p.ended_at ? await liveFlags(ctx.store, [id]) : [false];
    if (!live) throw new JmpError('bad_request', `body.parentSession: ${id} is not a live session of ${username}`);
  };

  api.route('get', '/v1/guard/rules', { summary: 'The command rules that apply to a host, and its mode (deny-list or allow-list)', tags, auth: shell, security: 'service', query: z.object({ host: z.string().min(1).max(253) }), response: c.HostRules }, async ({ query }) => {
    const rules = await rulesForHost(ctx.db, query.host);
    if (!rules) throw new JmpError('not_found', `no host named ${query.host}`);
    return rules;
  });

  api.route('post', '/v1/sessions', { summary: 'A target session started', tags, auth: service, security: 'service', body: c.SessionStart, status: 201 }, async ({ body, principal }) => {
    const [user, host] = await Promise.all([ctx.db('users').where({ username: body.user }).first('id'), ctx.db('hosts').where({ hostname: body.host }).first('id')]);
    if (!user) throw new JmpError('bad_request', `body.user: no user named ${body.user}`);
    if (!host) throw new JmpError('bad_request', `body.host: no host named ${body.host}`);
    if (body.parentSession !== undefined) await mustBeLiveParent(body.parentSession, user.id, body.user);
    const row = { id: body.id, user_id: user.id, host_id: host.id, protocol: body.protocol, source_address: body.sourceAddress ?? null, parent_session_id: body.parentSession ?? null };
    if (body.maxPerUser === undefined) {
      await ctx.db('sessions').insert(row).onConflict('id').ignore();
    } else {
      // The limit holds across every instance: count the person's live sessions
      // (open rows whose heartbeat key still lives) under a per-user lock, so
      // two instances starting at once cannot both slip under it.
      await ctx.db.transaction(async (trx) => {
        await trx.raw('select pg_advisory_xact_lock(?, ?)', [SESSION_LIMIT_LOCK, user.id]);
        const open = (await trx('sessions').where({ user_id: user.id }).whereNull('ended_at').whereNot({ id: body.id })
          .where('started_at', '>', trx.raw("now() - interval '7 days'")).pluck('id')) as string[];
        const live = open.length ? (await liveFlags(ctx.store, open)).filter(Boolean).length : 0;
        if (live >= body.maxPerUser!) {
          throw new JmpError('conflict', `you have ${live} sessions open; the limit is ${body.maxPerUser}`, { live, limit: body.maxPerUser });
        }
        await trx('sessions').insert(row).onConflict('id').ignore();
        await heartbeat(ctx.store, body.instance ?? actorOf(principal), [body.id]);
      });
    }
    await heartbeat(ctx.store, body.instance ?? actorOf(principal), [body.id]);
    await appendAudit(ctx.db, { actor: actorOf(principal), action: 'session.started', target: `${body.user}@${body.host}`, data: { session: body.id, protocol: body.protocol, source: body.sourceAddress ?? null, ...(body.parentSession ? { parentSession: body.parentSession } : {}) } });
    return { id: body.id };
  });

  api.route('post', '/v1/sessions/:id/end', { summary: 'A target session ended', tags, auth: service, security: 'service', params: IdParam, body: c.SessionEnd }, async ({ params, body, principal }) => {
    if (body.recordingUri !== undefined) {
      const s = await ctx.db('sessions').where({ id: params.id }).first('started_at');
      if (!s) throw new JmpError('not_found', `no session ${params.id}`);
      const problem = recordingUriProblem(body.recordingUri, params.id, new Date(s.started_at));
      if (problem) {
        await appendAudit(ctx.db, { actor: actorOf(principal), action: 'session.recording_refused', target: params.id, data: { reason: problem, uri: body.recordingUri.slice(0, 256) } });
        throw new JmpError('bad_request', `body.recordingUri: ${problem}`);
      }
    }
    const n = await ctx.db('sessions').where({ id: params.id }).whereNull('ended_at').update({ ended_at: ctx.db.fn.now(), bytes_in: body.bytesIn, bytes_out: body.bytesOut, end_reason: body.endReason, recording_uri: body.recordingUri ?? null });
    if (!n && !(await ctx.db('sessions').where({ id: params.id }).first('id'))) throw new JmpError('not_found', `no session ${params.id}`);
    await markEnded(ctx.store, params.id);
    await appendAudit(ctx.db, { actor: actorOf(principal), action: 'session.ended', target: params.id, data: { reason: body.endReason, bytesIn: body.bytesIn, bytesOut: body.bytesOut } });
    return undefined;
  });

  api.route('post', '/v1/sessions/:id/commands', { summary: 'Commands submitted in a session, with the guard verdicts', tags, auth: shell, security: 'service', params: IdParam, body: c.CommandBatch, status: 201 }, async ({ params, body }) => {
    const s = await ctx.db('sessions as s').leftJoin('users as u', 'u.id', 's.user_id').leftJoin('hosts as h', 'h.id', 's.host_id').where('s.id', params.id).first('s.user_id', 's.host_id', 'u.username', 'h.hostname');
    if (!s) throw new JmpError('not_found', `no session ${params.id}`);
    await ctx.db('commands').insert(body.commands.map((cmd) => ({ session_id: params.id, user_id: s.user_id, host_id: s.host_id, at: cmd.at, line: cmd.line, verdict: cmd.verdict, rule_id: cmd.ruleId ?? null })));
    for (const cmd of body.commands) {
      if (cmd.verdict === 'alert' || cmd.verdict === 'block') {
        await appendAudit(ctx.db, { actor: `user:${s.username}`, action: `command.${cmd.verdict}`, target: `${s.username}@${s.hostname}`, data: { session: params.id, rule: cmd.ruleName ?? cmd.ruleId ?? null, severity: cmd.severity ?? null, line: cmd.line.slice(0, 4096) } });
        ctx.notifier.commandFlagged({ sessionId: params.id, user: s.username, host: s.hostname, line: cmd.line, verdict: cmd.verdict, ruleName: cmd.ruleName ?? `rule #${cmd.ruleId ?? '?'}`, severity: cmd.severity ?? 'unknown', at: cmd.at });
      } else if (cmd.verdict === 'skipped') {
        await appendAudit(ctx.db, { actor: 'jmp-ssh', action: 'guard.skipped', target: `${s.username}@${s.hostname}`, data: { session: params.id } });
      }
    }
    return { stored: body.commands.length };
  });

  api.route('post', '/v1/sessions/heartbeat', { summary: "A jmp-ssh instance's live sessions; the answer names those to end", tags, auth: service, security: 'service', body: c.Heartbeat, response: c.HeartbeatAnswer }, async ({ body }) => ({ end: await heartbeat(ctx.store, body.instance, body.sessions) }));

  api.route('post', '/v1/sessions/:id/terminate', { summary: 'End a live session (its jmp-ssh ends it within 2 s)', tags: ['admin: sessions'], auth: auth.admin(), security: 'admin', params: IdParam, body: c.EndSessionRequest, status: 202 }, async ({ params, body, principal }) => {
    const s = await ctx.db('sessions').where({ id: params.id }).first('id', 'ended_at');
    if (!s) throw new JmpError('not_found', `no session ${params.id}`);
    if (s.ended_at) throw new JmpError('conflict', `session ${params.id} has already ended`);
    await requestEnd(ctx.store, params.id, body.reason);
    await appendAudit(ctx.db, { actor: actorOf(principal), action: 'session.terminate', target: params.id, data: { reason: body.reason } });
    return { id: params.id, reason: body.reason };
  });

  const listQuery = (q: z.infer<typeof c.SessionQuery>, mine?: number) => {
    const qb = ctx.db('sessions as s').leftJoin('users as u', 'u.id', 's.user_id').leftJoin('hosts as h', 'h.id', 's.host_id');
    if (mine !== undefined) qb.where('s.user_id', mine);
    if (q.user) qb.where('u.username', q.user);
    if (q.host) qb.where('h.hostname', q.host);
    if (q.since) qb.where('s.started_at', '>=', q.since);
    if (q.until) qb.where('s.started_at', '<', q.until);
    if (q.verdict) qb.whereExists((w) => w.select(ctx.db.raw('1')).from('commands as c').whereRaw('c.session_id = s.id').where('c.verdict', q.verdict!));
    return qb;
  };
  api.route('get', '/v1/sessions', { summary: 'Sessions: everyone\'s for administrators and auditors, else one\'s own', tags, auth: auth.user(), security: 'user', query: c.SessionQuery, response: c.SessionList }, async ({ query, principal }) => {
    if (principal.kind !== 'user') throw new Error('unreachable');
    const mine = principal.user.isAdmin || principal.user.isAuditor ? undefined : principal.user.id;
    const [counted] = await listQuery(query, mine).count<{ n: string }[]>('* as n');
    const rows = await listQuery(query, mine).orderBy('s.started_at', 'desc').limit(query.limit).offset(query.offset)
      .select('s.*', 'u.username', 'h.hostname');
    const live = await liveFlags(ctx.store, rows.map((r) => r.id));
    return { total: Number(counted?.n ?? 0), items: rows.map((r, i) => view(r, live[i]!)) };
  });

  api.route('get', '/v1/sessions/:id', { summary: 'One session with its commands', tags, auth: auth.user(), security: 'user', params: IdParam, response: c.SessionDetail }, async ({ params, principal }) => {
    if (principal.kind !== 'user') throw new Error('unreachable');
    const r = await ctx.db('sessions as s').leftJoin('users as u', 'u.id', 's.user_id').leftJoin('hosts as h', 'h.id', 's.host_id').where('s.id', params.id).first('s.*', 'u.username', 'h.hostname');
    if (!r || (!principal.user.isAdmin && !principal.user.isAuditor && r.user_id !== principal.user.id)) throw new JmpError('not_found', `no session ${params.id}`);
    const commands = await ctx.db('commands').where({ session_id: params.id }).orderBy('at').orderBy('id');
    const [live] = await liveFlags(ctx.store, [r.id]);
    return { session: view(r, live!), commands: commands.map((x) => ({ id: Number(x.id), at: iso(x.at)!, line: x.line, verdict: x.verdict, ruleId: x.rule_id })) };
  });

  recordingRoutes(api, ctx, auth);
};

function view(r: any, live: boolean) {
  return {
    id: r.id, user: r.username ?? null, host: r.hostname ?? null, protocol: r.protocol, sourceAddress: r.source_address, startedAt: iso(r.started_at)!, endedAt: iso(r.ended_at),
    bytesIn: Number(r.bytes_in), bytesOut: Number(r.bytes_out), endReason: r.end_reason, recordingUri: r.recording_uri, live: live && !r.ended_at,
    parentSession: r.parent_session_id ?? null,
  };
}
