// Knex queries for people and their SSH keys. The uid comes from the database
// sequence at insert and is never written again.
import { definedOnly, mustGet, paged, substring, type Page, type Paged, type Tx } from './common.js';

export interface UserRow {
  id: number;
  username: string;
  uid: number;
  display_name: string;
  email: string | null;
  leader_id: number | null;
  department_id: number | null;
  status: 'active' | 'disabled';
  password_hash: string | null;
  totp_secret_enc: string | null;
  is_admin: boolean;
  is_auditor: boolean;
  shell: string;
  created_at: Date;
  updated_at: Date;
}

export interface UserKeyRow {
  id: number;
  user_id: number;
  public_key: string;
  fingerprint: string;
  comment: string;
  created_at: Date;
}

export interface UserFilter extends Page {
  q?: string | undefined;
  status?: string | undefined;
  departmentId?: number | undefined;
  isAdmin?: boolean | undefined;
}

export async function listUsers(db: Tx, f: UserFilter): Promise<Paged<UserRow>> {
  const qb = db('users').select('*');
  substring(qb, ['username', 'display_name', 'email'], f.q);
  if (f.status) qb.where({ status: f.status });
  if (f.departmentId) qb.where({ department_id: f.departmentId });
  if (f.isAdmin !== undefined) qb.where({ is_admin: f.isAdmin });
  return paged(qb, f, 'id');
}

/** The user, or a 404 saying there is none. */
export const getUser = (db: Tx, id: number): Promise<UserRow> => mustGet<UserRow>(db, 'users', id, 'user');

/** Active administrators other than `userId`. */
export async function otherActiveAdmins(db: Tx, userId: number): Promise<number> {
  const others = await db('users')
    .where({ is_admin: true, status: 'active' })
    .whereNot({ id: userId })
    .count<{ n: string }[]>({ n: '*' });
  return Number(others[0]!.n);
}

export interface NewUser {
  username: string;
  displayName: string;
  email: string | null;
  leaderId: number | null;
  departmentId: number | null;
  status: string;
  isAdmin: boolean;
  isAuditor: boolean;
  shell: string;
  passwordHash: string | null;
}

export async function insertUser(db: Tx, u: NewUser): Promise<UserRow> {
  const [row] = await db('users')
    .insert({
      username: u.username,
      display_name: u.displayName,
      email: u.email,
      leader_id: u.leaderId,
      department_id: u.departmentId,
      status: u.status,
      is_admin: u.isAdmin,
      is_auditor: u.isAuditor,
      shell: u.shell,
      password_hash: u.passwordHash,
    })
    .returning('*');
  return row as UserRow;
}

export interface UserChanges {
  displayName?: string | undefined;
  email?: string | null | undefined;
  leaderId?: number | null | undefined;
  departmentId?: number | null | undefined;
  status?: string | undefined;
  isAdmin?: boolean | undefined;
  isAuditor?: boolean | undefined;
  shell?: string | undefined;
}

/** Applies the given changes (stamping updated_at); undefined when there is nothing to change. */
export async function updateUser(db: Tx, id: number, c: UserChanges): Promise<UserRow | undefined> {
  const patch = definedOnly({
    display_name: c.displayName,
    email: c.email,
    leader_id: c.leaderId,
    department_id: c.departmentId,
    status: c.status,
    is_admin: c.isAdmin,
    is_auditor: c.isAuditor,
    shell: c.shell,
  });
  if (Object.keys(patch).length === 0) return undefined;
  const [row] = await db('users')
    .where({ id })
    .update({ ...patch, updated_at: db.fn.now() })
    .returning('*');
  return row as UserRow;
}

export async function deleteUser(db: Tx, id: number): Promise<void> {
  await db('users').where({ id }).delete();
}

export async function disableUser(db: Tx, id: number): Promise<void> {
  await db('users').where({ id }).update({ status: 'disabled', updated_at: db.fn.now() });
}

export async function setPasswordHash(db: Tx, id: number, hash: string): Promise<void> {
  await db('users').where({ id }).update({ password_hash: hash, updated_at: db.fn.now() });
}

/** Stores a sealed TOTP seed, or removes it (null). */
export async function setTotpSecret(db: Tx, id: number, sealed: string | null): Promise<void> {
  await db('users').where({ id }).update({ totp_secret_enc: sealed, updated_at: db.fn.now() });
}

export async function listKeys(db: Tx, userId: number): Promise<UserKeyRow[]> {
  return db('user_ssh_keys').where({ user_id: userId }).orderBy('id');
}

export interface NewKey {
  userId: number;
  publicKey: string;
  fingerprint: string;
  comment: string;
}

export async function insertKey(db: Tx, k: NewKey): Promise<UserKeyRow> {
  const [row] = await db('user_ssh_keys')
    .insert({ user_id: k.userId, public_key: k.publicKey, fingerprint: k.fingerprint, comment: k.comment })
    .returning('*');
  return row as UserKeyRow;
}

export async function findKey(db: Tx, userId: number, keyId: number): Promise<UserKeyRow | undefined> {
  return db('user_ssh_keys').where({ id: keyId, user_id: userId }).first();
}

export async function deleteKey(db: Tx, keyId: number): Promise<void> {
  await db('user_ssh_keys').where({ id: keyId }).delete();
}
