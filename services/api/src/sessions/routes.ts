// Target sessions as jmp-ssh reports them: start, commands with verdicts, end;
// a live registry fed by heartbeats; administrators end sessions; auditors list them.
import { JmpError, contract as c } from '@jmp/contract';
import { z } from 'zod';
import type { RouteModule } from '../http/app.js';
import { actorOf, SESSION_OPENERS } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import { rulesForHost } from './host-rules.js';
import { heartbeat, liveFlags, markEnded, requestEnd } from './live.js';
import { maySeeSession } from './readable.js';
import { recordingRoutes } from './recording.js';
import { watchedAmong } from './watch.js';
import { watchRoutes } from './watch-routes.js';
import { recordingUriProblem } from './recording-uri.js';
import * as repo from './repository.js';

const IdParam = z.object({ id: z.string().uuid() });
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export const sessionRoutes: RouteModule = (api, ctx, auth) => {
  // Least privilege (docs/decisions.md): sessions are reported by the services
  // that open them; commands and guard rules exist only in jmp-ssh's shells.
  const service = auth.service(...SESSION_OPENERS);
  const shell = auth.service('ssh');
  const tags = ['sessions'];
  /** A hop's session hangs off a live session of the same person, never someone else's. */
  const mustBeLiveParent = async (id: string, userId: number, username: string) => {
    const p = await repo.sessionState(ctx.db, id);
    const [live] = p && p.userId === userId && !p.endedAt ? await liveFlags(ctx.store, [id]) : [false];
    if (!live) throw new JmpError('bad_request', `body.parentSession: ${id} is not a live session of ${username}`);
  };

  api.route(
    'get',
    '/v1/guard/rules',
    {
      summary: 'The command rules that apply to a host, and its mode (deny-list or allow-list)',
      tags,
      auth: shell,
      security: 'service',
      query: z.object({ host: z.string().min(1).max(253) }),
      response: c.HostRules,
    },
    async ({ query }) => {
      const rules = await rulesForHost(ctx.db, query.host);
      if (!rules) throw new JmpError('not_found', `no host named ${query.host}`);
      return rules;
    },
  );

  api.route(
    'post',
    '/v1/sessions',
    {
      summary: 'A target session started',
      tags,
      auth: service,
      security: 'service',
      body: c.SessionStart,
      status: 201,
    },
    async ({ body, principal }) => {
      const [userId, hostId] = await Promise.all([
        repo.userIdByName(ctx.db, body.user),
        repo.hostIdByName(ctx.db, body.host),
      ]);
      if (userId === undefined) throw new JmpError('bad_request', `body.user: no user named ${body.user}`);
      if (hostId === undefined) throw new JmpError('bad_request', `body.host: no host named ${body.host}`);
      if (body.parentSession !== undefined) await mustBeLiveParent(body.parentSession, userId, body.user);
      const row: repo.NewSession = {
        id: body.id,
        userId,
        hostId,
        protocol: body.protocol,
        sourceAddress: body.sourceAddress ?? null,
        parentSession: body.parentSession ?? null,
      };
      if (body.maxPerUser === undefined) {
        await repo.insertSession(ctx.db, row);
      } else {
        // The limit holds across every instance: count the person's live sessions
        // (open rows whose heartbeat key still lives) under a per-user lock, so
        // two instances starting at once cannot both slip under it.
        await ctx.db.transaction(async (trx) => {
          await repo.lockUserSessions(trx, userId);
          const open = await repo.openSessionIds(trx, userId, body.id);
          const live = open.length ? (await liveFlags(ctx.store, open)).filter(Boolean).length : 0;
          if (live >= body.maxPerUser!) {
            throw new JmpError('conflict', `you have ${live} sessions open; the limit is ${body.maxPerUser}`, {
              live,
              limit: body.maxPerUser,
            });
          }
          await repo.insertSession(trx, row);
          await heartbeat(ctx.store, body.instance ?? actorOf(principal), [body.id]);
        });
      }
      await heartbeat(ctx.store, body.instance ?? actorOf(principal), [body.id]);
      await appendAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'session.started',
        target: `${body.user}@${body.host}`,
        data: {
          session: body.id,
          protocol: body.protocol,
          source: body.sourceAddress ?? null,
          ...(body.parentSession ? { parentSession: body.parentSession } : {}),
        },
      });
      return { id: body.id };
    },
  );

  api.route(
    'post',
    '/v1/sessions/:id/end',
    {
      summary: 'A target session ended',
      tags,
      auth: service,
      security: 'service',
      params: IdParam,
      body: c.SessionEnd,
    },
    async ({ params, body, principal }) => {
      if (body.recordingUri !== undefined) {
        const s = await repo.sessionState(ctx.db, params.id);
        if (!s) throw new JmpError('not_found', `no session ${params.id}`);
        const problem = recordingUriProblem(body.recordingUri, params.id, s.startedAt);
        if (problem) {
          await appendAudit(ctx.db, {
            actor: actorOf(principal),
            action: 'session.recording_refused',
            target: params.id,
            data: { reason: problem, uri: body.recordingUri.slice(0, 256) },
          });
          throw new JmpError('bad_request', `body.recordingUri: ${problem}`);
        }
      }
      const e = {
        bytesIn: body.bytesIn,
        bytesOut: body.bytesOut,
        endReason: body.endReason,
        recordingUri: body.recordingUri ?? null,
      };
      const ended = await repo.endSession(ctx.db, params.id, e);
      if (!ended && !(await repo.sessionExists(ctx.db, params.id)))
        throw new JmpError('not_found', `no session ${params.id}`);
      await markEnded(ctx.store, params.id);
      await appendAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'session.ended',
        target: params.id,
        data: { reason: body.endReason, bytesIn: body.bytesIn, bytesOut: body.bytesOut },
      });
      return undefined;
    },
  );

  api.route(
    'post',
    '/v1/sessions/:id/commands',
    {
      summary: 'Commands submitted in a session, with the guard verdicts',
      tags,
      auth: shell,
      security: 'service',
      params: IdParam,
      body: c.CommandBatch,
      status: 201,
    },
    async ({ params, body }) => {
      const s = await repo.sessionParties(ctx.db, params.id);
      if (!s) throw new JmpError('not_found', `no session ${params.id}`);
      await repo.insertCommands(ctx.db, params.id, s, body.commands);
      for (const cmd of body.commands) {
        if (cmd.verdict === 'alert' || cmd.verdict === 'block') {
          await appendAudit(ctx.db, {
            actor: `user:${s.username}`,
            action: `command.${cmd.verdict}`,
            target: `${s.username}@${s.hostname}`,
            data: {
              session: params.id,
              rule: cmd.ruleName ?? cmd.ruleId ?? null,
              severity: cmd.severity ?? null,
              line: cmd.line.slice(0, 4096),
            },
          });
          ctx.notifier.commandFlagged({
            sessionId: params.id,
            user: s.username!,
            host: s.hostname!,
            line: cmd.line,
            verdict: cmd.verdict,
            ruleName: cmd.ruleName ?? `rule #${cmd.ruleId ?? '?'}`,
            severity: cmd.severity ?? 'unknown',
            at: cmd.at,
          });
        } else if (cmd.verdict === 'skipped') {
          await appendAudit(ctx.db, {
            actor: 'jmp-ssh',
            action: 'guard.skipped',
            target: `${s.username}@${s.hostname}`,
            data: { session: params.id },
          });
        }
      }
      return { stored: body.commands.length };
    },
  );

  api.route(
    'post',
    '/v1/sessions/heartbeat',
    {
      summary: "A jmp-ssh instance's live sessions; the answer names those to end",
      tags,
      auth: service,
      security: 'service',
      body: c.Heartbeat,
      response: c.HeartbeatAnswer,
    },
    async ({ body }) => {
      const [end, watched] = await Promise.all([
        heartbeat(ctx.store, body.instance, body.sessions),
        watchedAmong(ctx.store, body.sessions),
      ]);
      return { end, watched: watched.map((id) => ({ id, notice: ctx.config.watchNotice })) };
    },
  );

  api.route(
    'post',
    '/v1/sessions/:id/terminate',
    {
      summary: 'End a live session (its jmp-ssh ends it within 2 s)',
      tags: ['admin: sessions'],
      auth: auth.admin(),
      security: 'admin',
      params: IdParam,
      body: c.EndSessionRequest,
      status: 202,
    },
    async ({ params, body, principal }) => {
      const s = await repo.sessionState(ctx.db, params.id);
      if (!s) throw new JmpError('not_found', `no session ${params.id}`);
      if (s.endedAt) throw new JmpError('conflict', `session ${params.id} has already ended`);
      await requestEnd(ctx.store, params.id, body.reason);
      await appendAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'session.terminate',
        target: params.id,
        data: { reason: body.reason },
      });
      return { id: params.id, reason: body.reason };
    },
  );

  api.route(
    'get',
    '/v1/sessions',
    {
      summary: "Sessions: everyone's for administrators and auditors, else one's own",
      tags,
      auth: auth.user(),
      security: 'user',
      query: c.SessionQuery,
      response: c.SessionList,
    },
    async ({ query, principal }) => {
      if (principal.kind !== 'user') throw new Error('unreachable');
      const mine = principal.user.isAdmin || principal.user.isAuditor ? undefined : principal.user.id;
      const { total, rows } = await repo.listSessions(ctx.db, query, mine);
      const live = await liveFlags(
        ctx.store,
        rows.map((r) => r.id),
      );
      return { total, items: rows.map((r, i) => view(r, live[i]!)) };
    },
  );

  api.route(
    'get',
    '/v1/sessions/:id',
    {
      summary: 'One session with its commands',
      tags,
      auth: auth.user(),
      security: 'user',
      params: IdParam,
      response: c.SessionDetail,
    },
    async ({ params, principal }) => {
      if (principal.kind !== 'user') throw new Error('unreachable');
      const r = await repo.getSession(ctx.db, params.id);
      if (!r || !maySeeSession(principal.user, r.user_id)) throw new JmpError('not_found', `no session ${params.id}`);
      const commands = await repo.commandsOf(ctx.db, params.id);
      const [live] = await liveFlags(ctx.store, [r.id]);
      return {
        session: view(r, live!),
        commands: commands.map((x) => ({
          id: Number(x.id),
          at: iso(x.at)!,
          line: x.line,
          verdict: x.verdict,
          ruleId: x.rule_id,
        })),
      };
    },
  );

  recordingRoutes(api, ctx, auth);
  watchRoutes(api, ctx, auth);
};

function view(r: repo.SessionRow, live: boolean) {
  return {
    id: r.id,
    user: r.username ?? null,
    host: r.hostname ?? null,
    protocol: r.protocol,
    sourceAddress: r.source_address,
    startedAt: iso(r.started_at)!,
    endedAt: iso(r.ended_at),
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    endReason: r.end_reason,
    recordingUri: r.recording_uri,
    live: live && !r.ended_at,
    parentSession: r.parent_session_id ?? null,
  };
}
