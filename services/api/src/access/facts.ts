// Loads what decide() needs from Postgres. One round trip per decision: this
// is the hot path of every PAM question.
import type { Db } from '../db/knex.js';
import { preparedQuery } from '../db/prepared.js';
import type { DecideGrant, DecideHost, DecideRole, DecideUser } from './decide.js';

export interface Facts {
  user: DecideUser | null;
  host: DecideHost | null;
  roles: DecideRole[];
  grants: DecideGrant[];
}

const FACTS_SQL = `
WITH RECURSIVE u AS (SELECT id, username, status, department_id FROM users WHERE username = $1),
h AS (
  SELECT h.id, h.hostname, h.state, h.service_id, s.project_id, s.name AS service_name, p.name AS project_name
  FROM hosts h LEFT JOIN services s ON s.id = h.service_id LEFT JOIN projects p ON p.id = s.project_id
  WHERE ${'${hostWhere}'}),
d(id, parent_id, depth) AS (
  SELECT id, parent_id, 0 FROM departments WHERE id = (SELECT department_id FROM u)
  UNION ALL SELECT x.id, x.parent_id, d.depth + 1 FROM departments x JOIN d ON x.id = d.parent_id WHERE d.depth < 32),
subj(t, id) AS (SELECT 'user'::varchar, id FROM u UNION ALL SELECT 'department'::varchar, id FROM d),
scp(t, id) AS (SELECT 'host'::varchar, id FROM h UNION ALL SELECT 'service'::varchar, service_id FROM h WHERE service_id IS NOT NULL
  UNION ALL SELECT 'project'::varchar, project_id FROM h WHERE project_id IS NOT NULL)
SELECT
  (SELECT row_to_json(u) FROM u) AS u,
  (SELECT row_to_json(h) FROM h) AS h,
  (SELECT coalesce(json_agg(id ORDER BY depth), '[]') FROM d) AS depts,
  (SELECT coalesce(json_agg(json_build_object('scopeType', r.scope_type, 'scopeId', r.scope_id, 'role', r.role)), '[]')
     FROM roles r WHERE r.user_id = (SELECT id FROM u)
      AND ((r.scope_type = 'service' AND r.scope_id = (SELECT service_id FROM h)) OR (r.scope_type = 'project' AND r.scope_id = (SELECT project_id FROM h)))) AS roles,
  (SELECT coalesce(json_agg(json_build_object('id', g.id, 'subjectType', g.subject_type, 'subjectId', g.subject_id, 'scopeType', g.scope_type,
            'scopeId', g.scope_id, 'right', g.right, 'validFrom', g.valid_from, 'validUntil', g.valid_until)), '[]')
     FROM subj JOIN scp ON true
     JOIN grants g ON g.subject_type = subj.t AND g.subject_id = subj.id AND g.scope_type = scp.t AND g.scope_id = scp.id
     WHERE g.revoked_at IS NULL AND (g.valid_until IS NULL OR g.valid_until > now() - interval '1 minute')) AS grants`;

const BY_ID = FACTS_SQL.replace('${hostWhere}', 'h.id = $2::int');
const BY_NAME = FACTS_SQL.replace('${hostWhere}', 'h.hostname = $2');

interface FactsRow {
  u: { id: number; username: string; status: 'active' | 'disabled'; department_id: number | null } | null;
  h: {
    id: number;
    hostname: string;
    state: 'online' | 'offline';
    service_id: number | null;
    project_id: number | null;
    service_name: string | null;
    project_name: string | null;
  } | null;
  depts: number[];
  roles: DecideRole[];
  grants: Array<Omit<DecideGrant, 'validFrom' | 'validUntil'> & { validFrom: string; validUntil: string | null }>;
}

/** Facts for `username` on a host given by id or by host name. */
export async function loadFacts(db: Db, username: string, host: number | string): Promise<Facts> {
  const byId = typeof host === 'number';
  const [r] = await preparedQuery<FactsRow>(
    db,
    byId ? 'jmp_facts_by_host_id' : 'jmp_facts_by_hostname',
    byId ? BY_ID : BY_NAME,
    [username, host],
  );
  if (!r) throw new Error('facts query returned no row');
  return {
    user: r.u ? { id: r.u.id, username: r.u.username, status: r.u.status, departmentIds: r.depts } : null,
    host: r.h
      ? {
          id: r.h.id,
          hostname: r.h.hostname,
          state: r.h.state,
          serviceId: r.h.service_id,
          projectId: r.h.project_id,
          serviceName: r.h.service_name ?? undefined,
          projectName: r.h.project_name ?? undefined,
        }
      : null,
    roles: r.roles,
    grants: r.grants.map((g) => ({
      ...g,
      validFrom: new Date(g.validFrom),
      validUntil: g.validUntil ? new Date(g.validUntil) : null,
    })),
  };
}
