// The command rules that apply to one host: global ones, its project's and its
// service's, enabled only. A service with any enabled allow rule is in
// allow-list mode (only listed commands pass); otherwise deny-list mode.
import type { HostRules } from '@jmp/contract/schemas/sessions';
import type { Db } from '../db/knex.js';

export async function rulesForHost(db: Db, hostname: string): Promise<HostRules | null> {
  const host = await db('hosts as h')
    .leftJoin('services as s', 's.id', 'h.service_id')
    .where('h.hostname', hostname.toLowerCase())
    .first('h.hostname', 'h.service_id', 's.project_id');
  if (!host) return null;
  const rows = await db('command_rules')
    .where({ enabled: true })
    .where((q) => {
      q.where('scope_type', 'global');
      if (host.service_id) q.orWhere((w) => w.where({ scope_type: 'service', scope_id: host.service_id }));
      if (host.project_id) q.orWhere((w) => w.where({ scope_type: 'project', scope_id: host.project_id }));
    })
    .orderBy('id')
    .select('id', 'name', 'pattern', 'action', 'severity', 'list', 'scope_type');
  const allowListed = rows.some((r) => r.list === 'allow' && r.scope_type === 'service');
  return {
    host: host.hostname,
    mode: allowListed ? 'allow-list' : 'deny-list',
    rules: rows.map(({ scope_type: _s, ...r }) => r),
  };
}
