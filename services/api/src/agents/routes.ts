import { z } from 'zod';
import { JmpError, contract } from '@jmp/common';
import type { RouteModule } from '../http/app.js';
import { forgetHostKey } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import { sha256hex } from '../crypto/secrets.js';
import { parseSshPublicKey } from '@jmp/common/ssh-key';
import { buildSnapshot, snapshotEtag } from './snapshot.js';

const AgentEvents = z.object({
  events: z.array(z.object({
    type: z.enum(['tamper', 'degraded', 'recovered', 'offline_decision']),
    at: z.iso.datetime({ offset: true }),
    detail: z.record(z.string(), z.unknown()).default({}),
  })).min(1).max(500),
});

export const agentRoutes: RouteModule = (api, ctx, auth) => {
  api.route('post', '/v1/agents/enroll', {
    summary: 'Enrol a host with a one-time enrolment token; registers its agent key, addresses and SSH host keys', tags: ['agents'],
    auth: null, body: contract.EnrollRequest, response: contract.EnrollResponse, status: 201,
  }, async ({ body, req }) => {
    const hostname = body.hostname.toLowerCase();
    const sshHostKeys: string[] = [];
    for (const [i, k] of body.sshHostKeys.entries()) {
      const parsed = parseSshPublicKey(k);
      if (typeof parsed === 'string') throw new JmpError('bad_request', `body.sshHostKeys.${i}: ${parsed}`);
      sshHostKeys.push(parsed.line);
    }
    const hostId = await ctx.db.transaction(async (trx) => {
      // Consume one use atomically; an expired, revoked or used-up token matches nothing.
      const [token] = await trx('enrolment_tokens').where({ token_hash: sha256hex(body.token) }).whereNull('revoked_at')
        .where('expires_at', '>', trx.fn.now()).whereRaw('uses < max_uses').increment('uses', 1).returning(['id', 'service_id', 'host_state']);
      if (!token) throw new JmpError('unauthorized', 'enrolment token is unknown, expired, revoked or used up');
      const fields = { addresses: JSON.stringify(body.addresses), ssh_host_keys: JSON.stringify(sshHostKeys), agent_public_key: body.agentPublicKey, enrolled_at: trx.fn.now(), last_seen_at: trx.fn.now() };
      const existing = await trx('hosts').where({ hostname }).forUpdate().first('id', 'agent_public_key');
      // A token must not let anyone take over an enrolled host's identity: an
      // administrator resets the enrolment first (POST /v1/hosts/:id/reset-enrolment).
      if (existing?.agent_public_key) throw new JmpError('conflict', `host ${hostname} is already enrolled; an administrator must reset its enrolment before it can enrol again`);
      if (existing) {
        await trx('hosts').where({ id: existing.id }).update(fields);
        return existing.id as number;
      }
      const [row] = await trx('hosts').insert({ hostname, kind: 'linux', state: token.host_state, service_id: token.service_id, ...fields }).returning('id');
      return row.id as number;
    });
    forgetHostKey(hostId);
    await appendAudit(ctx.db, { actor: `host:${hostname}`, action: 'agent.enrolled', target: hostname, data: { hostId, addresses: body.addresses, source: req.ip ?? null } });
    return { hostId, hostname };
  });

  api.route('get', '/v1/agents/policy', {
    summary: "The calling host's policy snapshot (users, rights, ticket keys); ETag / If-None-Match → 304", tags: ['agents'],
    auth: auth.host(), security: 'host', response: contract.PolicySnapshot,
  }, async ({ principal, req, res }) => {
    if (principal.kind !== 'host') throw new Error('unreachable');
    const started = process.hrtime.bigint();
    const snap = await buildSnapshot(ctx.db, principal.hostId, ctx.ticketKeys, ctx.config.noSnapshotPolicy, ctx.now());
    if (!snap) throw new JmpError('not_found', 'this host is no longer registered; enrol it again');
    void ctx.db('hosts').where({ id: principal.hostId }).update({ last_seen_at: ctx.db.fn.now() }).catch(() => {});
    const etag = snapshotEtag(snap);
    res.setHeader('ETag', etag);
    res.setHeader('Server-Timing', `snapshot;dur=${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)}`);
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return undefined;
    }
    return { ...snap, generatedAt: ctx.now().toISOString() };
  });

  api.route('post', '/v1/agents/events', {
    summary: 'Events a host agent reports: tamper, degraded/recovered, decisions taken offline', tags: ['agents'],
    auth: auth.host(), security: 'host', body: AgentEvents,
  }, async ({ principal, body }) => {
    if (principal.kind !== 'host') throw new Error('unreachable');
    for (const e of body.events) {
      await appendAudit(ctx.db, { actor: `host:${principal.hostname}`, action: `agent.${e.type}`, target: principal.hostname, data: { at: e.at, ...e.detail } });
    }
    const degraded = body.events.some((e) => e.type === 'degraded') && !body.events.some((e) => e.type === 'recovered');
    await ctx.db('hosts').where({ id: principal.hostId }).update({ agent_status: JSON.stringify({ degraded, lastEvent: body.events.at(-1)?.type, at: new Date().toISOString() }), last_seen_at: ctx.db.fn.now() });
    return undefined;
  });
};
