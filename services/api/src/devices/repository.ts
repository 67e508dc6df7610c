// Knex queries for network devices, their accounts and vendor profiles, the
// device-secrets public keys, and the facts decideDevice() needs. Sealed
// secrets are read here only for jmp-ssh (a session's account, a key rotation).
import type { Knex } from 'knex';
import { definedOnly, mustGet, paged, substring, type Page, type Paged, type Tx } from '../admin/repository/common.js';
import type { DecideGrant, DecideRole, DecideUser } from '../access/decide.js';
import type { DecideDevice } from './decide.js';

export interface ProfileRow {
  id: number;
  name: string;
  spec: unknown;
  created_at: Date;
}

export interface DeviceRow {
  id: number;
  name: string;
  address: string;
  port: number;
  protocol: 'ssh' | 'telnet';
  state: 'online' | 'offline';
  profile_id: number;
  profile_name: string;
  service_id: number | null;
  host_key: string | null;
  created_at: Date;
}

export interface AccountRow {
  id: number;
  device_id: number;
  name: string;
  key_version: number | null;
  secret_set_at: Date | null;
}

export interface SealedRow {
  id: number;
  device_id: number;
  name: string;
  key_version: number;
  sealed_secret: Buffer;
}

// ---- profiles ----

export const listProfiles = (db: Tx): Promise<ProfileRow[]> => db('device_profiles').select('*').orderBy('id');
export const getProfile = (db: Tx, id: number): Promise<ProfileRow> =>
  mustGet<ProfileRow>(db, 'device_profiles', id, 'device profile');

export async function insertProfile(db: Tx, name: string, spec: unknown): Promise<ProfileRow> {
  const [row] = await db('device_profiles')
    .insert({ name, spec: JSON.stringify(spec) })
    .returning('*');
  return row as ProfileRow;
}

export async function updateProfile(db: Tx, id: number, p: { name?: string; spec?: unknown }): Promise<ProfileRow> {
  const patch = definedOnly({ name: p.name, spec: p.spec === undefined ? undefined : JSON.stringify(p.spec) });
  if (Object.keys(patch).length) await db('device_profiles').where({ id }).update(patch);
  return getProfile(db, id);
}

// ---- devices ----

const deviceColumns = (db: Tx) =>
  db('devices as d').join('device_profiles as p', 'p.id', 'd.profile_id').select('d.*', 'p.name as profile_name');

export async function listDevices(
  db: Tx,
  f: Page & { q?: string | undefined; serviceId?: number | undefined },
): Promise<Paged<DeviceRow>> {
  const qb = deviceColumns(db);
  substring(qb, ['d.name', 'd.address'], f.q);
  if (f.serviceId) qb.where('d.service_id', f.serviceId);
  return paged(qb, f, 'd.id');
}

export async function getDevice(db: Tx, id: number): Promise<DeviceRow | undefined> {
  return deviceColumns(db).where('d.id', id).first();
}

export interface DeviceFields {
  name?: string | undefined;
  address?: string | undefined;
  port?: number | undefined;
  protocol?: string | undefined;
  state?: string | undefined;
  profileId?: number | undefined;
  serviceId?: number | null | undefined;
  hostKey?: string | null | undefined;
}

const columns = (d: DeviceFields) =>
  definedOnly({
    name: d.name,
    address: d.address,
    port: d.port,
    protocol: d.protocol,
    state: d.state,
    profile_id: d.profileId,
    service_id: d.serviceId,
    host_key: d.hostKey,
  });

export async function insertDevice(db: Tx, d: DeviceFields): Promise<number> {
  const [row] = await db('devices').insert(columns(d)).returning('id');
  return (row as { id: number }).id;
}

export async function updateDevice(db: Tx, id: number, d: DeviceFields): Promise<void> {
  const patch = columns(d);
  if (Object.keys(patch).length) await db('devices').where({ id }).update(patch);
}

export async function deleteDevice(db: Tx, id: number): Promise<void> {
  await db('devices').where({ id }).delete();
}

/** Pins a host key where none is pinned; false when one already was. */
export async function pinHostKey(db: Tx, id: number, hostKey: string): Promise<boolean> {
  return (await db('devices').where({ id }).whereNull('host_key').update({ host_key: hostKey })) === 1;
}

export async function serviceExists(db: Tx, id: number): Promise<boolean> {
  return !!(await db('services').where({ id }).first('id'));
}

// ---- accounts ----

export async function accountsOf(db: Tx, deviceIds: number[]): Promise<AccountRow[]> {
  if (!deviceIds.length) return [];
  return db('device_accounts')
    .whereIn('device_id', deviceIds)
    .orderBy('id')
    .select('id', 'device_id', 'name', 'key_version', 'secret_set_at');
}

export async function getAccount(db: Tx, deviceId: number, accountId: number): Promise<AccountRow | undefined> {
  return db('device_accounts')
    .where({ id: accountId, device_id: deviceId })
    .first('id', 'device_id', 'name', 'key_version', 'secret_set_at');
}

export async function insertAccount(db: Tx, deviceId: number, name: string): Promise<AccountRow> {
  const [row] = await db('device_accounts')
    .insert({ device_id: deviceId, name })
    .returning(['id', 'device_id', 'name', 'key_version', 'secret_set_at']);
  return row as AccountRow;
}

export async function deleteAccount(db: Tx, accountId: number): Promise<void> {
  await db('device_accounts').where({ id: accountId }).delete();
}

export async function setSealed(db: Tx, accountId: number, sealed: Buffer, keyVersion: number): Promise<void> {
  await db('device_accounts')
    .where({ id: accountId })
    .update({ sealed_secret: sealed, key_version: keyVersion, secret_set_at: db.fn.now() });
}

/** The sealed secret of a device's account (by name, or its first account). */
export async function sealedFor(db: Tx, deviceId: number, account?: string): Promise<SealedRow | undefined> {
  const q = db('device_accounts').where({ device_id: deviceId }).whereNotNull('sealed_secret');
  if (account !== undefined) q.where({ name: account });
  return q.orderBy('id').first('id', 'device_id', 'name', 'key_version', 'sealed_secret');
}

// ---- device-secrets keys ----

type DeviceKey = { version: number; public_key: string };

export async function currentKey(db: Tx): Promise<DeviceKey | undefined> {
  return db('device_keys').orderBy('version', 'desc').first('version', 'public_key');
}

/**
 * Runs `fn` in one transaction that holds the device-key lock, with the current key:
 * key registration and rotation are serialised across jmp-api instances.
 */
export async function withKeysLocked<T>(
  db: Knex,
  fn: (trx: Knex.Transaction, cur: DeviceKey | undefined) => Promise<T>,
): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [0x6a6d7010]);
    return fn(trx, await currentKey(trx));
  });
}

export async function insertKey(db: Tx, version: number, publicKey: string): Promise<void> {
  await db('device_keys').insert({ version, public_key: publicKey });
}

export async function allSealed(db: Tx, forUpdate = false): Promise<SealedRow[]> {
  const q = db('device_accounts')
    .whereNotNull('sealed_secret')
    .orderBy('id')
    .select('id', 'device_id', 'name', 'key_version', 'sealed_secret');
  return forUpdate ? q.forUpdate() : q;
}

export async function replaceSealed(db: Tx, accountId: number, sealed: Buffer, keyVersion: number): Promise<void> {
  await db('device_accounts').where({ id: accountId }).update({ sealed_secret: sealed, key_version: keyVersion });
}

// ---- sessions ----

export async function insertDeviceSession(
  db: Tx,
  s: { id: string; userId: number; deviceId: number; protocol: string; sourceAddress: string | null },
): Promise<void> {
  await db('sessions').insert({
    id: s.id,
    user_id: s.userId,
    device_id: s.deviceId,
    protocol: s.protocol,
    source_address: s.sourceAddress,
  });
}

export async function sessionOf(
  db: Tx,
  id: string,
): Promise<{ user_id: number; device_id: number | null; username: string; is_admin: boolean } | undefined> {
  return db('sessions as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.id', id)
    .first('s.user_id', 's.device_id', 'u.username', 'u.is_admin');
}

// ---- facts ----

export interface DeviceFacts {
  user: (DecideUser & { isAdmin: boolean }) | null;
  roles: DecideRole[];
  grants: DecideGrant[];
}

/** The person, their department chain, roles and device grants (for every device: the menu). */
export async function personFacts(db: Tx, username: string): Promise<DeviceFacts> {
  const u = await db('users').where({ username }).first('id', 'username', 'status', 'department_id', 'is_admin');
  if (!u) return { user: null, roles: [], grants: [] };
  const depts = await db
    .withRecursive('d', ['id', 'parent_id', 'depth'], (qb) => {
      qb.select('id', 'parent_id', db.raw('0'))
        .from('departments')
        .where('id', u.department_id ?? -1)
        .unionAll((x) =>
          x
            .select('x.id', 'x.parent_id', db.raw('d.depth + 1'))
            .from('departments as x')
            .join('d', 'x.id', 'd.parent_id')
            .where('d.depth', '<', 32),
        );
    })
    .select('id')
    .from('d')
    .orderBy('depth');
  const departmentIds = depts.map((d: { id: number }) => d.id);
  const roles = await db('roles').where({ user_id: u.id }).select('scope_type', 'scope_id', 'role');
  const grants = await db('grants')
    .where({ right: 'device' })
    .whereNull('revoked_at')
    .where((w) => {
      w.where({ subject_type: 'user', subject_id: u.id });
      if (departmentIds.length)
        w.orWhere((x) => x.where('subject_type', 'department').whereIn('subject_id', departmentIds));
    })
    .select('id', 'subject_type', 'subject_id', 'scope_type', 'scope_id', 'right', 'valid_from', 'valid_until');
  return {
    user: { id: u.id, username: u.username, status: u.status, departmentIds, isAdmin: u.is_admin },
    roles: roles.map((r: { scope_type: 'project' | 'service'; scope_id: number; role: 'owner' | 'ops' }) => ({
      scopeType: r.scope_type,
      scopeId: r.scope_id,
      role: r.role,
    })),
    grants: grants.map(
      (g: {
        id: number;
        subject_type: 'user' | 'department';
        subject_id: number;
        scope_type: 'host' | 'service' | 'project';
        scope_id: number;
        right: 'device';
        valid_from: Date;
        valid_until: Date | null;
      }) => ({
        id: g.id,
        subjectType: g.subject_type,
        subjectId: g.subject_id,
        scopeType: g.scope_type,
        scopeId: g.scope_id,
        right: g.right,
        validFrom: new Date(g.valid_from),
        validUntil: g.valid_until ? new Date(g.valid_until) : null,
      }),
    ),
  };
}

export interface DeviceTarget extends DecideDevice {
  row: DeviceRow;
  profileSpec: unknown;
}

const targetQuery = (db: Tx) =>
  db('devices as d')
    .join('device_profiles as p', 'p.id', 'd.profile_id')
    .leftJoin('services as s', 's.id', 'd.service_id')
    .leftJoin('projects as pr', 'pr.id', 's.project_id')
    .select(
      'd.*',
      'p.name as profile_name',
      'p.spec as profile_spec',
      's.name as service_name',
      'pr.id as project_id',
      'pr.name as project_name',
    );

type TargetRow = DeviceRow & {
  profile_spec: unknown;
  service_name: string | null;
  project_id: number | null;
  project_name: string | null;
};

const toTarget = (r: TargetRow): DeviceTarget => ({
  id: r.id,
  name: r.name,
  state: r.state,
  serviceId: r.service_id,
  serviceName: r.service_name ?? undefined,
  projectId: r.project_id,
  projectName: r.project_name ?? undefined,
  row: r,
  profileSpec: r.profile_spec,
});

export async function deviceTarget(db: Tx, name: string): Promise<DeviceTarget | undefined> {
  const r = (await targetQuery(db).where('d.name', name).first()) as TargetRow | undefined;
  return r && toTarget(r);
}

export async function allDeviceTargets(db: Tx): Promise<DeviceTarget[]> {
  return ((await targetQuery(db).orderBy('d.name')) as TargetRow[]).map(toTarget);
}
