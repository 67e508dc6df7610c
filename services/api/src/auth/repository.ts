// Knex queries for logging in to jmp: a person's row by name or id and their
// registered SSH keys. No rules here: login.ts decides.
import type { Knex } from 'knex';

export interface UserRow {
  id: number;
  username: string;
  uid: number;
  display_name: string;
  email: string | null;
  status: string;
  password_hash: string | null;
  totp_secret_enc: string | null;
  is_admin: boolean;
  is_auditor: boolean;
}

export async function userByName(db: Knex, username: string): Promise<UserRow | undefined> {
  return (await db('users').where({ username }).first()) as UserRow | undefined;
}

export async function userById(db: Knex, id: number): Promise<UserRow | undefined> {
  return (await db('users').where({ id }).first()) as UserRow | undefined;
}

/** The stored public key of the person's SSH key with this fingerprint. */
export async function sshKeyByFingerprint(db: Knex, userId: number, fingerprint: string): Promise<string | undefined> {
  const row = await db('user_ssh_keys').where({ user_id: userId, fingerprint }).first('public_key');
  return row?.public_key as string | undefined;
}
