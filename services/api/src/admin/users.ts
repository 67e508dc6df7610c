// People: accounts, passwords, TOTP seeds and SSH keys. The uid comes from the
// database sequence at insert and is never written again; secrets are write-only.
import { contract as c, JmpError } from '@jmp/common';
import type { RouteModule } from '../http/app.js';
import { hashPassword } from '../crypto/passwords.js';
import { newTotpSecret, totpUri } from '../crypto/totp.js';
import { audit, badField, isoNN, mustGet, mustRef, paged, readers, substring, write, type Tx } from './crud.js';
import { parseSshPublicKey } from '@jmp/common/ssh-key';
import { reservedUsernameReason } from '@jmp/common/contract/usernames';
import { revokeUserSessions } from '../auth/sessions.js';

const USER_HINTS = {
  users_username_unique: ['body.username', 'this username is already taken'],
  users_username_format: ['body.username', 'must match ^[a-z_][a-z0-9_-]{0,31}$'],
  users_status: ['body.status', 'must be active or disabled'],
} as Record<string, [string, string]>;
const KEY_HINTS = { user_ssh_keys_user_id_fingerprint_unique: ['body.publicKey', 'this key is already registered for this user'] } as Record<string, [string, string]>;

export function toUser(r: any): c.AdminUser {
  return {
    id: r.id, username: r.username, uid: r.uid, displayName: r.display_name, email: r.email,
    leaderId: r.leader_id, departmentId: r.department_id, status: r.status,
    isAdmin: r.is_admin, isAuditor: r.is_auditor, shell: r.shell,
    hasPassword: r.password_hash != null, hasTotp: r.totp_secret_enc != null,
    createdAt: isoNN(r.created_at), updatedAt: isoNN(r.updated_at),
  };
}

const toKey = (r: any) => ({ id: r.id, userId: r.user_id, publicKey: r.public_key, fingerprint: r.fingerprint, comment: r.comment, createdAt: isoNN(r.created_at) });

/** Refuses a change that would leave no active person able to administer jmp. */
async function keepAnAdmin(trx: Tx, userId: number, what: string): Promise<void> {
  const others = await trx('users').where({ is_admin: true, status: 'active' }).whereNot({ id: userId }).count<{ n: string }[]>({ n: '*' });
  if (Number(others[0]!.n) === 0) throw new JmpError('conflict', `${what} would leave no active administrator; make someone else an administrator first`);
}

async function loadUser(trx: Tx, id: number): Promise<any> {
  return mustGet(trx, 'users', id, 'user');
}

export const userRoutes: RouteModule = (api, ctx, auth) => {
  const tags = ['admin: users'];

  api.route('get', '/v1/users', { summary: 'List users', tags, auth: readers(auth), security: 'admin', query: c.UserQuery, response: c.UserList }, async ({ query }) => {
    const qb = ctx.db('users').select('*');
    substring(qb, ['username', 'display_name', 'email'], query.q);
    if (query.status) qb.where({ status: query.status });
    if (query.departmentId) qb.where({ department_id: query.departmentId });
    if (query.isAdmin !== undefined) qb.where({ is_admin: query.isAdmin });
    return paged(qb, query, 'id', toUser);
  });

  api.route('post', '/v1/users', { summary: 'Create a user (the uid is assigned by jmp; system account names are refused)', tags, auth: auth.admin(), security: 'admin', body: c.UserCreate, response: c.AdminUser, status: 201 }, async ({ body, principal }) => {
    // Usernames never change after creation, so this is the one place a name enters jmp.
    const reserved = reservedUsernameReason(body.username, ctx.config.reservedUsernames);
    if (reserved) throw badField('body.username', reserved);
    const passwordHash = body.password ? await hashPassword(body.password) : null;
    return write(ctx, USER_HINTS, async (trx) => {
      await mustRef(trx, 'user', body.leaderId, 'body.leaderId');
      await mustRef(trx, 'department', body.departmentId, 'body.departmentId');
      const [row] = await trx('users').insert({
        username: body.username, display_name: body.displayName, email: body.email ?? null,
        leader_id: body.leaderId ?? null, department_id: body.departmentId ?? null, status: body.status,
        is_admin: body.isAdmin, is_auditor: body.isAuditor, shell: body.shell, password_hash: passwordHash,
      }).returning('*');
      const { password: _pw, ...data } = body;
      await audit(trx, principal, 'user.created', `user:${row.username}`, { ...data, uid: row.uid, hasPassword: passwordHash !== null });
      return toUser(row);
    });
  });

  api.route('get', '/v1/users/:id', { summary: 'Get a user', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.AdminUser }, async ({ params }) => toUser(await loadUser(ctx.db, params.id)));

  api.route('patch', '/v1/users/:id', { summary: 'Update a user (username and uid never change)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, body: c.UserUpdate, response: c.AdminUser }, async ({ params, body, principal }) => {
    const out = await write(ctx, USER_HINTS, async (trx) => {
      const cur = await loadUser(trx, params.id);
      if (body.leaderId === params.id) throw badField('body.leaderId', 'a user cannot be their own leader');
      await mustRef(trx, 'user', body.leaderId, 'body.leaderId');
      await mustRef(trx, 'department', body.departmentId, 'body.departmentId');
      const losesAdmin = cur.is_admin && cur.status === 'active' && (body.isAdmin === false || body.status === 'disabled');
      if (losesAdmin) await keepAnAdmin(trx, params.id, 'this change');
      const patch: Record<string, unknown> = {};
      if (body.displayName !== undefined) patch.display_name = body.displayName;
      if (body.email !== undefined) patch.email = body.email;
      if (body.leaderId !== undefined) patch.leader_id = body.leaderId;
      if (body.departmentId !== undefined) patch.department_id = body.departmentId;
      if (body.status !== undefined) patch.status = body.status;
      if (body.isAdmin !== undefined) patch.is_admin = body.isAdmin;
      if (body.isAuditor !== undefined) patch.is_auditor = body.isAuditor;
      if (body.shell !== undefined) patch.shell = body.shell;
      if (Object.keys(patch).length === 0) return toUser(cur);
      const [row] = await trx('users').where({ id: params.id }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
      await audit(trx, principal, 'user.updated', `user:${row.username}`, { ...body });
      return toUser(row);
    });
    if (body.status === 'disabled') await revokeUserSessions(ctx, params.id);
    return out;
  });

  // Deleting is soft by default: the user is disabled and keeps their row, so
  // their uid stays reserved (files they own on targets keep a stable owner and
  // the number is never handed to someone else), and sessions, commands,
  // approvals and audit entries keep naming who did what. ?hard=1 really deletes
  // (e.g. a mistaken account): roles and keys go with it, access requests and
  // approvals cascade, grants to the person are revoked, references elsewhere
  // become null. The uid is still never reused, because the sequence only grows.
  api.route('delete', '/v1/users/:id', { summary: 'Disable a user (or delete with ?hard=1)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, query: c.UserDeleteQuery }, async ({ params, query, principal }) => {
    await write(ctx, USER_HINTS, async (trx) => {
      const cur = await loadUser(trx, params.id);
      if (cur.is_admin && cur.status === 'active') await keepAnAdmin(trx, params.id, query.hard ? 'deleting this user' : 'disabling this user');
      if (query.hard) {
        await trx('grants').where({ subject_type: 'user', subject_id: params.id }).whereNull('revoked_at').update({ revoked_at: trx.fn.now() });
        await trx('users').where({ id: params.id }).delete();
        await audit(trx, principal, 'user.deleted', `user:${cur.username}`, { uid: cur.uid });
      } else if (cur.status !== 'disabled') {
        await trx('users').where({ id: params.id }).update({ status: 'disabled', updated_at: trx.fn.now() });
        await audit(trx, principal, 'user.disabled', `user:${cur.username}`, {});
      }
    });
    await revokeUserSessions(ctx, params.id);
  });

  api.route('post', '/v1/users/:id/password', { summary: 'Set a user\'s password (scrypt; never returned)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, body: c.SetPassword }, async ({ params, body, principal }) => {
    const hash = await hashPassword(body.password);
    await write(ctx, {}, async (trx) => {
      const cur = await loadUser(trx, params.id);
      await trx('users').where({ id: params.id }).update({ password_hash: hash, updated_at: trx.fn.now() });
      await audit(trx, principal, 'user.password_set', `user:${cur.username}`, {});
    });
    // Whoever knew the old password may hold a web session made with it.
    await revokeUserSessions(ctx, params.id);
  });

  api.route('post', '/v1/users/:id/totp', { summary: 'Enrol a fresh TOTP seed; the seed is returned this once', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, response: c.TotpEnrolment, status: 201 }, async ({ params, principal, res }) => {
    const secret = newTotpSecret();
    const out = await write(ctx, {}, async (trx) => {
      const cur = await loadUser(trx, params.id);
      await trx('users').where({ id: params.id }).update({ totp_secret_enc: ctx.secrets.seal(secret, 'totp'), updated_at: trx.fn.now() });
      await audit(trx, principal, 'user.totp_enrolled', `user:${cur.username}`, { replaced: cur.totp_secret_enc != null });
      return { secret, uri: totpUri(cur.username, secret) };
    });
    res.setHeader('cache-control', 'no-store');
    return out;
  });

  api.route('delete', '/v1/users/:id/totp', { summary: 'Remove a user\'s TOTP seed', tags, auth: auth.admin(), security: 'admin', params: c.IdParams }, async ({ params, principal }) => {
    await write(ctx, {}, async (trx) => {
      const cur = await loadUser(trx, params.id);
      if (cur.totp_secret_enc == null) return;
      await trx('users').where({ id: params.id }).update({ totp_secret_enc: null, updated_at: trx.fn.now() });
      await audit(trx, principal, 'user.totp_removed', `user:${cur.username}`, {});
    });
  });

  api.route('get', '/v1/users/:id/keys', { summary: 'List a user\'s SSH public keys', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.UserKeyList }, async ({ params }) => {
    await loadUser(ctx.db, params.id);
    const rows = await ctx.db('user_ssh_keys').where({ user_id: params.id }).orderBy('id');
    return { items: rows.map(toKey) };
  });

  api.route('post', '/v1/users/:id/keys', { summary: 'Add an SSH public key to a user', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, body: c.UserKeyCreate, response: c.UserKey, status: 201 }, async ({ params, body, principal }) => {
    const key = parseSshPublicKey(body.publicKey);
    if (typeof key === 'string') throw badField('body.publicKey', key);
    return write(ctx, KEY_HINTS, async (trx) => {
      const cur = await loadUser(trx, params.id);
      const [row] = await trx('user_ssh_keys').insert({ user_id: params.id, public_key: key.line, fingerprint: key.fingerprint, comment: (body.comment ?? key.comment).slice(0, 256) }).returning('*');
      await audit(trx, principal, 'user.key_added', `user:${cur.username}`, { keyId: row.id, type: key.type, fingerprint: key.fingerprint });
      return toKey(row);
    });
  });

  api.route('delete', '/v1/users/:id/keys/:keyId', { summary: 'Remove an SSH public key from a user', tags, auth: auth.admin(), security: 'admin', params: c.UserKeyParams }, async ({ params, principal }) => {
    await write(ctx, {}, async (trx) => {
      const cur = await loadUser(trx, params.id);
      const key = await trx('user_ssh_keys').where({ id: params.keyId, user_id: params.id }).first();
      if (!key) throw new JmpError('not_found', `user ${cur.username} has no SSH key with id ${params.keyId}`);
      await trx('user_ssh_keys').where({ id: key.id }).delete();
      await audit(trx, principal, 'user.key_removed', `user:${cur.username}`, { keyId: key.id, fingerprint: key.fingerprint });
    });
  });
};
