// Command rules for the guard in jmp-ssh. Patterns are RE2 (linear time, no
// backtracking), so a rule can never stall a session; one that RE2 does not
// accept is refused here rather than skipped later at match time. They are
// compiled by the proxies' own compileRules, so a rule saved here always
// compiles there.
import { compileRules, RuleCompileError, type CompiledRules } from '@jmp/guard/rules';
import { contract as c } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { audit, badField, isoNN, mapPage, readers, write } from './crud.js';
import { mustRef } from './repository/common.js';
import * as repo from './repository/rules.js';

const RULE_HINTS = {
  rules_action: ['body.action', 'must be alert or block'],
  rules_scope: ['body.scopeId', 'is required for a project or service scope and must be absent for global'],
} as Record<string, [string, string]>;

const toRule = (r: repo.RuleRow): c.CommandRule => ({
  id: r.id,
  name: r.name,
  pattern: r.pattern,
  action: r.action,
  severity: r.severity,
  list: r.list,
  scopeType: r.scope_type,
  scopeId: r.scope_id,
  enabled: r.enabled,
  createdAt: isoNN(r.created_at),
});

/** Compiles as every proxy does (one deny rule), or throws a 400 naming the field with RE2's own message. */
export function compileRule(pattern: string, field = 'body.pattern'): CompiledRules {
  try {
    return compileRules([{ id: 'new', name: 'new', pattern, action: 'alert', severity: 'low', list: 'deny' }]);
  } catch (err) {
    if (err instanceof RuleCompileError) throw badField(field, `RE2 cannot compile this pattern: ${err.reason}`);
    throw err;
  }
}

function checkScope(scopeType: string, scopeId: number | null | undefined): void {
  if (scopeType === 'global' && scopeId != null) throw badField('body.scopeId', 'must be null for a global rule');
  if (scopeType !== 'global' && scopeId == null) throw badField('body.scopeId', `is required for a ${scopeType} rule`);
}

export const ruleRoutes: RouteModule = (api, ctx, auth) => {
  const tags = ['admin: command rules'];

  api.route(
    'get',
    '/v1/rules',
    {
      summary: 'List command rules',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.RuleQuery,
      response: c.CommandRuleList,
    },
    async ({ query }) => {
      return mapPage(await repo.listRules(ctx.db, query), toRule);
    },
  );

  api.route(
    'post',
    '/v1/rules/test',
    {
      summary: 'Try a pattern against a command line (RE2)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.RuleTest,
      response: c.RuleTestResult,
    },
    async ({ body }) => ({ match: compileRule(body.pattern).match(body.line).rules.length > 0 }),
  );

  api.route(
    'post',
    '/v1/rules',
    {
      summary: 'Create a command rule',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.RuleCreate,
      response: c.CommandRule,
      status: 201,
    },
    async ({ body, principal }) => {
      compileRule(body.pattern);
      checkScope(body.scopeType, body.scopeId);
      return write(ctx, RULE_HINTS, async (trx) => {
        if (body.scopeType !== 'global') await mustRef(trx, body.scopeType, body.scopeId, 'body.scopeId');
        const row = await repo.insertRule(trx, { ...body, scopeId: body.scopeId ?? null });
        await audit(trx, principal, 'rule.created', `rule:${row.id}`, { ...body });
        return toRule(row);
      });
    },
  );

  api.route(
    'get',
    '/v1/rules/:id',
    {
      summary: 'Get a command rule',
      tags,
      auth: readers(auth),
      security: 'admin',
      params: c.IdParams,
      response: c.CommandRule,
    },
    async ({ params }) => toRule(await repo.getRule(ctx.db, params.id)),
  );

  api.route(
    'patch',
    '/v1/rules/:id',
    {
      summary: 'Update a command rule',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.RuleUpdate,
      response: c.CommandRule,
    },
    async ({ params, body, principal }) => {
      if (body.pattern !== undefined) compileRule(body.pattern);
      return write(ctx, RULE_HINTS, async (trx) => {
        const cur = await repo.getRule(trx, params.id);
        const scopeType: string = body.scopeType ?? cur.scope_type;
        // Switching to global clears the scope id unless the body sets one.
        const scopeId = body.scopeId !== undefined ? body.scopeId : scopeType === 'global' ? null : cur.scope_id;
        checkScope(scopeType, scopeId);
        if (scopeType !== 'global') await mustRef(trx, scopeType as 'project' | 'service', scopeId, 'body.scopeId');
        const row = await repo.updateRule(trx, params.id, { ...body, scopeType, scopeId });
        await audit(trx, principal, 'rule.updated', `rule:${row.id}`, { ...body });
        return toRule(row);
      });
    },
  );

  api.route(
    'delete',
    '/v1/rules/:id',
    { summary: 'Delete a command rule', tags, auth: auth.admin(), security: 'admin', params: c.IdParams },
    async ({ params, principal }) => {
      await write(ctx, RULE_HINTS, async (trx) => {
        const cur = await repo.getRule(trx, params.id);
        await repo.deleteRule(trx, params.id);
        await audit(trx, principal, 'rule.deleted', `rule:${cur.id}`, { name: cur.name, pattern: cur.pattern });
      });
    },
  );
};
