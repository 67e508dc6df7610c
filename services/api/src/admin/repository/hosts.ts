// Knex queries for hosts. Addresses and SSH host keys are JSON arrays; the
// agent's columns (key, enrolment, last seen, status) are written by agents/.
import { definedOnly, mustGet, paged, substring, type Page, type Paged, type Tx } from './common.js';

export interface HostRow {
  id: number;
  hostname: string;
  addresses: string[];
  state: 'online' | 'offline';
  kind: 'linux' | 'windows' | 'netdev';
  service_id: number | null;
  ssh_host_keys: string[];
  agent_public_key: string | null;
  enrolled_at: Date | null;
  last_seen_at: Date | null;
  agent_status: Record<string, unknown> | null;
  enrolment_token_id: number | null;
  created_at: Date;
}

export interface HostFilter extends Page {
  q?: string | undefined;
  serviceId?: number | undefined;
  projectId?: number | undefined;
  state?: string | undefined;
  kind?: string | undefined;
}

export async function listHosts(db: Tx, f: HostFilter): Promise<Paged<HostRow>> {
  const qb = db('hosts').select('hosts.*');
  substring(qb, ['hosts.hostname', 'hosts.addresses'], f.q);
  if (f.serviceId) qb.where('hosts.service_id', f.serviceId);
  if (f.projectId) qb.whereIn('hosts.service_id', db('services').select('id').where({ project_id: f.projectId }));
  if (f.state) qb.where('hosts.state', f.state);
  if (f.kind) qb.where('hosts.kind', f.kind);
  return paged(qb, f, 'hosts.id');
}

export const getHost = (db: Tx, id: number): Promise<HostRow> => mustGet<HostRow>(db, 'hosts', id, 'host');

/** The host row locked until the transaction ends, or undefined. */
export async function lockHost(trx: Tx, id: number): Promise<HostRow | undefined> {
  return trx('hosts').where({ id }).forUpdate().first();
}

export interface NewHost {
  hostname: string;
  addresses: string[];
  state: string;
  kind: string;
  serviceId: number | null;
  sshHostKeys: string[];
  enrolmentTokenId: number | null;
}

export async function insertHost(db: Tx, h: NewHost): Promise<HostRow> {
  const [row] = await db('hosts')
    .insert({
      hostname: h.hostname,
      addresses: JSON.stringify(h.addresses),
      state: h.state,
      kind: h.kind,
      service_id: h.serviceId,
      ssh_host_keys: JSON.stringify(h.sshHostKeys),
      enrolment_token_id: h.enrolmentTokenId,
    })
    .returning('*');
  return row as HostRow;
}

export interface HostChanges {
  hostname?: string | undefined;
  addresses?: string[] | undefined;
  state?: string | undefined;
  kind?: string | undefined;
  serviceId?: number | null | undefined;
  sshHostKeys?: string[] | undefined;
  enrolmentTokenId?: number | null | undefined;
  /** Set by an enrolment reset only: forgets the agent's key. */
  forgetAgent?: true | undefined;
}

/** Applies the given changes; undefined when there is nothing to change. */
export async function updateHost(db: Tx, id: number, c: HostChanges): Promise<HostRow | undefined> {
  const patch = definedOnly({
    hostname: c.hostname,
    addresses: c.addresses && JSON.stringify(c.addresses),
    state: c.state,
    kind: c.kind,
    service_id: c.serviceId,
    ssh_host_keys: c.sshHostKeys && JSON.stringify(c.sshHostKeys),
    enrolment_token_id: c.enrolmentTokenId,
    ...(c.forgetAgent ? { agent_public_key: null, enrolled_at: null } : {}),
  });
  if (Object.keys(patch).length === 0) return undefined;
  const [row] = await db('hosts').where({ id }).update(patch).returning('*');
  return row as HostRow;
}

export async function deleteHost(db: Tx, id: number): Promise<void> {
  await db('hosts').where({ id }).delete();
}
