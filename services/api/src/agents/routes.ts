import { z } from 'zod';
import { JmpError, POLICY_VERSION_HEADER, contract } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { forgetHostKey } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import { sha256hex } from '../crypto/secrets.js';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';
import { buildTimedSnapshot, snapshotEtag } from './snapshot.js';
import { SnapshotEtags } from './snapshot-cache.js';
import { LastSeen } from './last-seen.js';
import { requestPolicyVersion } from '../access/facts-cache.js';
import { recordOfflineSpent } from '../pam/spent.js';
import { enrolHost } from './enrol.js';
import { consumeEnrolmentToken, recordAgentStatus } from './repository.js';

const AgentEvents = z.object({
  events: z
    .array(
      z.object({
        type: z.enum(['tamper', 'degraded', 'recovered', 'offline_decision']),
        at: z.iso.datetime({ offset: true }),
        detail: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .min(1)
    .max(500),
});

/** "jmp-agent/0.1.0" → "0.1.0"; anything else is not recorded. */
export function agentVersion(userAgent: string | undefined): string | undefined {
  return /^jmp-agent\/([0-9A-Za-z.+~-]{1,32})$/.exec(userAgent ?? '')?.[1];
}

export const agentRoutes: RouteModule = (api, ctx, auth) => {
  const etags = new SnapshotEtags();
  const lastSeen = new LastSeen(ctx.db, ctx.log);
  api.route(
    'post',
    '/v1/agents/enroll',
    {
      summary: 'Enrol a host with a one-time enrolment token; registers its agent key, addresses and SSH host keys',
      tags: ['agents'],
      auth: null,
      body: contract.EnrollRequest,
      response: contract.EnrollResponse,
      status: 201,
    },
    async ({ body, req }) => {
      const hostname = body.hostname.toLowerCase();
      const sshHostKeys: string[] = [];
      for (const [i, k] of body.sshHostKeys.entries()) {
        const parsed = parseSshPublicKey(k);
        if (typeof parsed === 'string') throw new JmpError('bad_request', `body.sshHostKeys.${i}: ${parsed}`);
        sshHostKeys.push(parsed.line);
      }
      let tokenId: number | undefined;
      const enrolled = await ctx.db
        .transaction(async (trx) => {
          // Consume one use atomically; an expired, revoked or used-up token matches nothing.
          const token = await consumeEnrolmentToken(trx, sha256hex(body.token));
          if (!token) throw new JmpError('unauthorized', 'enrolment token is unknown, expired, revoked or used up');
          tokenId = token.id;
          // A refusal throws: the transaction rolls back, the use is not spent, and the refusal is audited below.
          return enrolHost(trx, token, {
            hostname,
            addresses: body.addresses,
            sshHostKeys,
            agentPublicKey: body.agentPublicKey,
          });
        })
        .catch(async (err: unknown) => {
          // A valid token aimed at a host it may not claim is worth an administrator's attention.
          if (err instanceof JmpError && err.code === 'conflict' && tokenId !== undefined) {
            const data = { enrolmentTokenId: tokenId, reason: err.message, source: req.ip ?? null };
            await appendAudit(ctx.db, {
              actor: `host:${hostname}`,
              action: 'agent.enrol_refused',
              target: hostname,
              data,
            });
          }
          throw err;
        });
      const { hostId, claimed } = enrolled;
      forgetHostKey(hostId);
      const data = { hostId, addresses: body.addresses, enrolmentTokenId: tokenId, claimed, source: req.ip ?? null };
      await appendAudit(ctx.db, { actor: `host:${hostname}`, action: 'agent.enrolled', target: hostname, data });
      return { hostId, hostname };
    },
  );

  api.route(
    'get',
    '/v1/agents/policy',
    {
      summary: "The calling host's policy snapshot (users, rights, ticket keys); ETag / If-None-Match → 304",
      tags: ['agents'],
      auth: auth.host(),
      security: 'host',
      response: contract.PolicySnapshot,
    },
    async ({ principal, req, res }) => {
      if (principal.kind !== 'host') throw new Error('unreachable');
      const started = process.hrtime.bigint();
      const timing = (what: string) =>
        res.setHeader('Server-Timing', `${what};dur=${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)}`);
      // Read before the build: a write landing during it bumps the version, so the agent pulls again.
      // The same read the host token check made (after the request arrived): one per poll.
      const version = await requestPolicyVersion(ctx.db, req);
      res.setHeader(POLICY_VERSION_HEADER, version);
      lastSeen.seen(principal.hostId, agentVersion(req.headers['user-agent']));
      const now = ctx.now();
      // The routine poll: nothing the snapshot depends on changed since it was last built.
      const known = etags.current(principal.hostId, version, now.getTime());
      if (known && req.headers['if-none-match'] === known) {
        res.setHeader('ETag', known);
        timing('cached');
        res.status(304).end();
        return undefined;
      }
      const built = await buildTimedSnapshot(
        ctx.db,
        principal.hostId,
        ctx.ticketKeys,
        ctx.config.noSnapshotPolicy,
        now,
      );
      if (!built) throw new JmpError('not_found', 'this host is no longer registered; enrol it again');
      const etag = snapshotEtag(built.snapshot);
      etags.remember(principal.hostId, version, etag, built.changesAt);
      res.setHeader('ETag', etag);
      timing('snapshot');
      if (req.headers['if-none-match'] === etag) {
        res.status(304).end();
        return undefined;
      }
      return { ...built.snapshot, generatedAt: now.toISOString() };
    },
  );

  api.route(
    'post',
    '/v1/agents/events',
    {
      summary: 'Events a host agent reports: tamper, degraded/recovered, decisions taken offline',
      tags: ['agents'],
      auth: auth.host(),
      security: 'host',
      body: AgentEvents,
    },
    async ({ principal, body }) => {
      if (principal.kind !== 'host') throw new Error('unreachable');
      // First, so a store outage fails the batch before it is audited (the agent sends it again).
      await recordOfflineSpent(ctx, principal.hostId, body.events);
      for (const e of body.events) {
        await appendAudit(ctx.db, {
          actor: `host:${principal.hostname}`,
          action: `agent.${e.type}`,
          target: principal.hostname,
          data: { at: e.at, ...e.detail },
        });
      }
      const degraded =
        body.events.some((e) => e.type === 'degraded') && !body.events.some((e) => e.type === 'recovered');
      await recordAgentStatus(ctx.db, principal.hostId, {
        degraded,
        lastEvent: body.events.at(-1)?.type,
        at: new Date().toISOString(),
      });
      return undefined;
    },
  );
};
