// Hosts. Admins set what a host is (name, addresses, state, kind, service, SSH
// host keys); the agent's fields (enrolment, last seen, status) are read-only here.
import { JmpError, contract as c } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { forgetHostKey } from '../http/auth.js';
import { audit, badField, iso, isoNN, mapPage, readers, write } from './crud.js';
import { mustRef } from './repository/common.js';
import * as repo from './repository/hosts.js';
import { releaseScope } from './repository/org.js';
import { checkEnrolmentBinding } from './enrolment.js';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';

const HOST_HINTS = {
  hosts_hostname_unique: ['body.hostname', 'a host with this name already exists'],
  hosts_state: ['body.state', 'must be online or offline'],
  hosts_kind: ['body.kind', 'must be linux, windows or netdev'],
} as Record<string, [string, string]>;

const toHost = (r: repo.HostRow): c.AdminHost => ({
  id: r.id,
  hostname: r.hostname,
  addresses: r.addresses,
  state: r.state,
  kind: r.kind,
  serviceId: r.service_id,
  sshHostKeys: r.ssh_host_keys,
  enrolled: r.agent_public_key != null,
  enrolledAt: iso(r.enrolled_at),
  lastSeenAt: iso(r.last_seen_at),
  agentStatus: r.agent_status ?? {},
  enrolmentTokenId: r.enrolment_token_id ?? null,
  createdAt: isoNN(r.created_at),
});

/** Host keys are checked and stored as "type base64" without comments, so jmp-ssh compares exact strings. */
function hostKeys(lines: string[]): string[] {
  const out: string[] = [];
  lines.forEach((l, i) => {
    const k = parseSshPublicKey(l);
    if (typeof k === 'string') throw badField(`body.sshHostKeys.${i}`, k);
    if (!out.includes(k.line)) out.push(k.line);
  });
  return out;
}

const unique = (xs: string[]) => [...new Set(xs)];

export const hostRoutes: RouteModule = (api, ctx, auth) => {
  const tags = ['admin: hosts'];

  api.route(
    'get',
    '/v1/hosts',
    {
      summary: 'List hosts (filters: service, project, state, kind, q on name or address)',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.HostQuery,
      response: c.HostList,
    },
    async ({ query }) => {
      return mapPage(await repo.listHosts(ctx.db, query), toHost);
    },
  );

  api.route(
    'post',
    '/v1/hosts',
    {
      summary: 'Register a host',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.HostCreate,
      response: c.AdminHost,
      status: 201,
    },
    async ({ body, principal }) => {
      const keys = hostKeys(body.sshHostKeys);
      return write(ctx, HOST_HINTS, async (trx) => {
        await mustRef(trx, 'service', body.serviceId, 'body.serviceId');
        if (body.enrolmentTokenId != null) {
          const host = { service_id: body.serviceId ?? null, kind: body.kind, agent_public_key: null };
          await checkEnrolmentBinding(trx, body.enrolmentTokenId, host, ctx.now());
        }
        const row = await repo.insertHost(trx, {
          hostname: body.hostname,
          addresses: unique(body.addresses),
          state: body.state,
          kind: body.kind,
          serviceId: body.serviceId ?? null,
          sshHostKeys: keys,
          enrolmentTokenId: body.enrolmentTokenId ?? null,
        });
        await audit(trx, principal, 'host.created', `host:${row.hostname}`, {
          id: row.id,
          ...body,
          sshHostKeys: keys.length,
        });
        return toHost(row);
      });
    },
  );

  api.route(
    'get',
    '/v1/hosts/:id',
    { summary: 'Get a host', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.AdminHost },
    async ({ params }) => toHost(await repo.getHost(ctx.db, params.id)),
  );

  api.route(
    'patch',
    '/v1/hosts/:id',
    {
      summary: 'Update a host',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.HostUpdate,
      response: c.AdminHost,
    },
    async ({ params, body, principal }) => {
      const keys = body.sshHostKeys ? hostKeys(body.sshHostKeys) : undefined;
      const out = await write(ctx, HOST_HINTS, async (trx) => {
        const cur = await repo.getHost(trx, params.id);
        await mustRef(trx, 'service', body.serviceId, 'body.serviceId');
        const changes: repo.HostChanges = {
          hostname: body.hostname,
          addresses: body.addresses && unique(body.addresses),
          state: body.state,
          kind: body.kind,
          serviceId: body.serviceId,
          sshHostKeys: keys,
        };
        if (body.enrolmentTokenId != null) {
          const host = {
            service_id: body.serviceId !== undefined ? body.serviceId : cur.service_id,
            kind: body.kind ?? cur.kind,
            agent_public_key: cur.agent_public_key,
          };
          await checkEnrolmentBinding(trx, body.enrolmentTokenId, host, ctx.now());
          changes.enrolmentTokenId = body.enrolmentTokenId;
        } else if (
          body.enrolmentTokenId === null ||
          (cur.enrolment_token_id != null && (body.serviceId !== undefined || body.kind !== undefined))
        ) {
          // A binding was checked against the service and kind; when they change it no longer holds.
          changes.enrolmentTokenId = null;
        }
        const row = await repo.updateHost(trx, params.id, changes);
        if (!row) return toHost(cur);
        await audit(trx, principal, 'host.updated', `host:${row.hostname}`, {
          id: row.id,
          ...body,
          ...(keys ? { sshHostKeys: keys.length } : {}),
          ...(body.hostname && body.hostname !== cur.hostname ? { previousHostname: cur.hostname } : {}),
          ...(changes.enrolmentTokenId === null && cur.enrolment_token_id != null
            ? { unboundEnrolmentTokenId: cur.enrolment_token_id }
            : {}),
        });
        return toHost(row);
      });
      forgetHostKey(params.id); // the auth cache also holds the host name
      return out;
    },
  );

  // Hosts are really deleted (no identity on targets hangs on their id); grants
  // on the host are revoked and kept, sessions keep their recordings with a null host.
  api.route(
    'delete',
    '/v1/hosts/:id',
    {
      summary: 'Delete a host (its agent can no longer authenticate)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
    },
    async ({ params, principal }) => {
      await write(ctx, HOST_HINTS, async (trx) => {
        const cur = await repo.getHost(trx, params.id);
        await releaseScope(trx, 'host', params.id);
        await repo.deleteHost(trx, params.id);
        await audit(trx, principal, 'host.deleted', `host:${cur.hostname}`, { id: cur.id });
      });
      forgetHostKey(params.id);
    },
  );

  // Re-enrolment needs this administrator's act: it forgets the agent key (the
  // host's old tokens stop working) and may bind the token that enrols it again.
  // Addresses and SSH host keys stay registered; change them with PATCH.
  api.route(
    'post',
    '/v1/hosts/:id/reset-enrolment',
    {
      summary:
        "Forget the host's agent key so the host must enrol again; optionally bind the enrolment token that may enrol it",
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.HostResetEnrolment,
      response: c.AdminHost,
    },
    async ({ params, body, principal }) => {
      const out = await write(ctx, HOST_HINTS, async (trx) => {
        const cur = await repo.lockHost(trx, params.id);
        if (!cur) throw new JmpError('not_found', `there is no host with id ${params.id}`);
        const changes: repo.HostChanges = { forgetAgent: true };
        if (body.enrolmentTokenId !== undefined) {
          await checkEnrolmentBinding(trx, body.enrolmentTokenId, { ...cur, agent_public_key: null }, ctx.now());
          changes.enrolmentTokenId = body.enrolmentTokenId;
        }
        const row = (await repo.updateHost(trx, params.id, changes))!;
        await audit(trx, principal, 'host.enrolment_reset', `host:${row.hostname}`, {
          id: row.id,
          wasEnrolled: cur.agent_public_key != null,
          enrolmentTokenId: row.enrolment_token_id ?? null,
        });
        return toHost(row);
      });
      forgetHostKey(params.id);
      return out;
    },
  );
};
