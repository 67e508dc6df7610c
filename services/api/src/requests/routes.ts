// HTTP for access requests and request policies. Thin: validate, identify
// the caller, call workflow.ts; the rules live in rules.ts.
import { JmpError } from '@jmp/contract';
import {
  AccessRequestDetail,
  AccessRequestList,
  CreateAccessRequest,
  DecisionBody,
  RequestIdParams,
  RequestListQuery,
  RequestPolicy,
  RequestPolicyKey,
  RequestPolicyList,
  RequestPolicyQuery,
  RequestPolicyView,
} from '@jmp/contract/schemas/requests';
import type { RouteModule } from '../http/app.js';
import { actorOf, type Principal } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import * as repo from './repository.js';
import {
  createRequest,
  decideRequest,
  getVisibleRequest,
  listRequests,
  pendingForApproval,
  type Caller,
  type WorkflowEnv,
} from './workflow.js';

function callerOf(p: Principal): Caller {
  if (p.kind !== 'user') throw new JmpError('unauthorized', 'a valid session is required');
  return { id: p.user.id, username: p.user.username, isAdmin: p.user.isAdmin, isAuditor: p.user.isAuditor };
}

export const requestRoutes: RouteModule = (api, ctx, auth) => {
  const env = (p: Principal): WorkflowEnv => ({
    db: ctx.db,
    now: ctx.now(),
    actor: actorOf(p),
    requestTtlSeconds: ctx.config.requestTtlSeconds,
  });
  const tags = ['requests'];

  api.route(
    'post',
    '/v1/requests',
    {
      summary:
        'Request access (login or root on a host, service or project, for a bounded time) for yourself or a department you lead',
      tags,
      auth: auth.user(),
      security: 'user',
      body: CreateAccessRequest,
      response: AccessRequestDetail,
      status: 201,
    },
    async ({ body, principal }) => createRequest(env(principal), callerOf(principal), body),
  );

  api.route(
    'get',
    '/v1/requests',
    {
      summary: "List your own access requests (mine=0: everyone's, administrators and auditors only)",
      tags,
      auth: auth.user(),
      security: 'user',
      query: RequestListQuery,
      response: AccessRequestList,
    },
    async ({ query, principal }) => ({ requests: await listRequests(env(principal), callerOf(principal), query) }),
  );

  // Before /:id so that "pending-approval" is not taken for an id.
  api.route(
    'get',
    '/v1/requests/pending-approval',
    {
      summary: 'Pending requests that you may approve, oldest first',
      tags,
      auth: auth.user(),
      security: 'user',
      response: AccessRequestList,
    },
    async ({ principal }) => ({ requests: await pendingForApproval(env(principal), callerOf(principal)) }),
  );

  api.route(
    'get',
    '/v1/requests/:id',
    {
      summary: 'One access request with its approvals (requester, eligible approvers, administrators, auditors)',
      tags,
      auth: auth.user(),
      security: 'user',
      params: RequestIdParams,
      response: AccessRequestDetail,
    },
    async ({ params, principal }) => getVisibleRequest(env(principal), callerOf(principal), params.id),
  );

  for (const [action, summary] of [
    ['approve', 'Approve a pending request: creates the grant (an eligible approver; never the requester)'],
    ['reject', 'Reject a pending request (an eligible approver; never the requester)'],
  ] as const) {
    api.route(
      'post',
      `/v1/requests/:id/${action}`,
      {
        summary,
        tags,
        auth: auth.user(),
        security: 'user',
        params: RequestIdParams,
        body: DecisionBody,
        response: AccessRequestDetail,
      },
      async ({ params, body, principal }) =>
        decideRequest(env(principal), callerOf(principal), params.id, action, body.note || undefined),
    );
  }

  api.route(
    'post',
    '/v1/requests/:id/cancel',
    {
      summary: 'Cancel your own pending request',
      tags,
      auth: auth.user(),
      security: 'user',
      params: RequestIdParams,
      response: AccessRequestDetail,
    },
    async ({ params, principal }) => decideRequest(env(principal), callerOf(principal), params.id, 'cancel', undefined),
  );

  // ---- limits: administrators ----

  api.route(
    'get',
    '/v1/request-policies',
    {
      summary: 'Request limits per project/service and right',
      tags,
      auth: auth.admin(),
      security: 'admin',
      query: RequestPolicyQuery,
      response: RequestPolicyList,
    },
    async ({ query }) => ({ policies: await repo.listPolicies(ctx.db, query) }),
  );

  api.route(
    'put',
    '/v1/request-policies',
    {
      summary: 'Set the request limit of a project/service for a right (upsert by scopeType, scopeId, right)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: RequestPolicy,
      response: RequestPolicyView,
    },
    async ({ body, principal }) => {
      if (!(await repo.scopeExists(ctx.db, body.scopeType, body.scopeId)))
        throw new JmpError('not_found', `no ${body.scopeType} #${body.scopeId}`);
      const missing = await repo.missingDepartments(ctx.db, body.allowedDepartmentIds ?? []);
      if (missing.length)
        throw new JmpError(
          'bad_request',
          `body.allowedDepartmentIds: no department ${missing.map((d) => `#${d}`).join(', ')}`,
          { field: 'body.allowedDepartmentIds' },
        );
      return ctx.db.transaction(async (trx) => {
        const p = await repo.upsertPolicy(trx, body);
        await appendAudit(trx, {
          actor: actorOf(principal),
          action: 'request_policy.set',
          target: `${p.scopeType}:${p.scopeId}:${p.right}`,
          data: { ...p },
        });
        return p;
      });
    },
  );

  api.route(
    'delete',
    '/v1/request-policies',
    {
      summary:
        'Remove the request limit of a project/service for a right (the next wider policy or the built-in default applies)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      query: RequestPolicyKey,
      status: 204,
    },
    async ({ query, principal }) => {
      await ctx.db.transaction(async (trx) => {
        const p = await repo.deletePolicy(trx, query);
        if (!p)
          throw new JmpError(
            'not_found',
            `no request policy for ${query.right} on ${query.scopeType} #${query.scopeId}`,
          );
        await appendAudit(trx, {
          actor: actorOf(principal),
          action: 'request_policy.deleted',
          target: `${p.scopeType}:${p.scopeId}:${p.right}`,
          data: { ...p },
        });
      });
    },
  );
};
