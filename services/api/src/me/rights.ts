// A person's rights in words, each with where it comes from, in the order
// roles, then grants. Pure: rows in, MyRight out.
import type { MyRight } from '@jmp/contract/schemas/auth';
import type { ScopedGrant, ScopedRole } from './repository.js';

const iso = (d: Date | string | null): string | null => (d == null ? null : new Date(d).toISOString());

export function describeRights(roles: ScopedRole[], grants: ScopedGrant[], names: Map<string, string>): MyRight[] {
  const name = (t: string, id: number) => names.get(`${t}:${id}`) ?? `${t} #${id}`;
  const out: MyRight[] = [];
  for (const r of roles) {
    const where = name(r.scope_type, r.scope_id);
    out.push({
      scope: { type: r.scope_type, id: r.scope_id, name: where },
      // The design's default rights: ops are root everywhere in scope, owners only on non-production hosts.
      right: r.role === 'ops' ? 'login + root' : 'login; root on non-production hosts',
      origin: `${r.role === 'ops' && r.ops_lead ? 'ops lead' : r.role} of ${where}`,
      kind: 'role',
      until: null,
      requestId: null,
    });
  }
  for (const g of grants) {
    const until = iso(g.valid_until);
    const via = g.subject_type === 'department' ? ' to your department' : '';
    const base = g.request_id != null ? `request #${g.request_id}` : `grant #${g.id}`;
    out.push({
      scope: { type: g.scope_type, id: g.scope_id, name: name(g.scope_type, g.scope_id) },
      right: g.right,
      origin: `${base}${via}${until ? ` until ${until}` : ''}`,
      kind: g.request_id != null ? 'request' : 'grant',
      until,
      requestId: g.request_id,
    });
  }
  return out;
}
