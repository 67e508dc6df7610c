// People: accounts, passwords, TOTP seeds and SSH keys. The uid comes from the
// database sequence at insert and is never written again; secrets are write-only.
import { contract as c, JmpError } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { hashPassword } from '../crypto/passwords.js';
import { newTotpSecret, totpUri } from '../crypto/totp.js';
import { audit, badField, isoNN, mapPage, readers, write, type Tx } from './crud.js';
import { mustRef } from './repository/common.js';
import * as repo from './repository/users.js';
import { revokeGrantsOf } from './repository/grants.js';
import { addUserKey, listUserKeys, removeUserKey } from './user-keys.js';
import { reservedUsernameReason } from '@jmp/contract/schemas/usernames';
import { revokeUserSessions } from '../auth/sessions.js';

const USER_HINTS = {
  users_username_unique: ['body.username', 'this username is already taken'],
  users_username_format: ['body.username', 'must match ^[a-z_][a-z0-9_-]{0,31}$'],
  users_status: ['body.status', 'must be active or disabled'],
} as Record<string, [string, string]>;

export function toUser(r: repo.UserRow): c.AdminUser {
  return {
    id: r.id,
    username: r.username,
    uid: r.uid,
    displayName: r.display_name,
    email: r.email,
    leaderId: r.leader_id,
    departmentId: r.department_id,
    status: r.status,
    isAdmin: r.is_admin,
    isAuditor: r.is_auditor,
    shell: r.shell,
    hasPassword: r.password_hash != null,
    hasTotp: r.totp_secret_enc != null,
    createdAt: isoNN(r.created_at),
    updatedAt: isoNN(r.updated_at),
  };
}

/** Refuses a change that would leave no active person able to administer jmp. */
async function keepAnAdmin(trx: Tx, userId: number, what: string): Promise<void> {
  if ((await repo.otherActiveAdmins(trx, userId)) === 0)
    throw new JmpError(
      'conflict',
      `${what} would leave no active administrator; make someone else an administrator first`,
    );
}

const loadUser = (trx: Tx, id: number): Promise<repo.UserRow> => repo.getUser(trx, id);

export const userRoutes: RouteModule = (api, ctx, auth) => {
  const tags = ['admin: users'];

  api.route(
    'get',
    '/v1/users',
    { summary: 'List users', tags, auth: readers(auth), security: 'admin', query: c.UserQuery, response: c.UserList },
    async ({ query }) => {
      return mapPage(await repo.listUsers(ctx.db, query), toUser);
    },
  );

  api.route(
    'post',
    '/v1/users',
    {
      summary: 'Create a user (the uid is assigned by jmp; system account names are refused)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.UserCreate,
      response: c.AdminUser,
      status: 201,
    },
    async ({ body, principal }) => {
      // Usernames never change after creation, so this is the one place a name enters jmp.
      const reserved = reservedUsernameReason(body.username, ctx.config.reservedUsernames);
      if (reserved) throw badField('body.username', reserved);
      const passwordHash = body.password ? await hashPassword(body.password) : null;
      return write(ctx, USER_HINTS, async (trx) => {
        await mustRef(trx, 'user', body.leaderId, 'body.leaderId');
        await mustRef(trx, 'department', body.departmentId, 'body.departmentId');
        const row = await repo.insertUser(trx, {
          username: body.username,
          displayName: body.displayName,
          email: body.email ?? null,
          leaderId: body.leaderId ?? null,
          departmentId: body.departmentId ?? null,
          status: body.status,
          isAdmin: body.isAdmin,
          isAuditor: body.isAuditor,
          shell: body.shell,
          passwordHash,
        });
        const { password: _pw, ...data } = body;
        await audit(trx, principal, 'user.created', `user:${row.username}`, {
          ...data,
          uid: row.uid,
          hasPassword: passwordHash !== null,
        });
        return toUser(row);
      });
    },
  );

  api.route(
    'get',
    '/v1/users/:id',
    { summary: 'Get a user', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.AdminUser },
    async ({ params }) => toUser(await loadUser(ctx.db, params.id)),
  );

  api.route(
    'patch',
    '/v1/users/:id',
    {
      summary: 'Update a user (username and uid never change)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.UserUpdate,
      response: c.AdminUser,
    },
    async ({ params, body, principal }) => {
      const out = await write(ctx, USER_HINTS, async (trx) => {
        const cur = await loadUser(trx, params.id);
        if (body.leaderId === params.id) throw badField('body.leaderId', 'a user cannot be their own leader');
        await mustRef(trx, 'user', body.leaderId, 'body.leaderId');
        await mustRef(trx, 'department', body.departmentId, 'body.departmentId');
        const losesAdmin =
          cur.is_admin && cur.status === 'active' && (body.isAdmin === false || body.status === 'disabled');
        if (losesAdmin) await keepAnAdmin(trx, params.id, 'this change');
        const row = await repo.updateUser(trx, params.id, body);
        if (!row) return toUser(cur);
        await audit(trx, principal, 'user.updated', `user:${row.username}`, { ...body });
        return toUser(row);
      });
      if (body.status === 'disabled') await revokeUserSessions(ctx, params.id);
      return out;
    },
  );

  // Deleting is soft by default: the user is disabled and keeps their row, so
  // their uid stays reserved (files they own on targets keep a stable owner and
  // the number is never handed to someone else), and sessions, commands,
  // approvals and audit entries keep naming who did what. ?hard=1 really deletes
  // (e.g. a mistaken account): roles and keys go with it, access requests and
  // approvals cascade, grants to the person are revoked, references elsewhere
  // become null. The uid is still never reused, because the sequence only grows.
  api.route(
    'delete',
    '/v1/users/:id',
    {
      summary: 'Disable a user (or delete with ?hard=1)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      query: c.UserDeleteQuery,
    },
    async ({ params, query, principal }) => {
      await write(ctx, USER_HINTS, async (trx) => {
        const cur = await loadUser(trx, params.id);
        if (cur.is_admin && cur.status === 'active')
          await keepAnAdmin(trx, params.id, query.hard ? 'deleting this user' : 'disabling this user');
        if (query.hard) {
          await revokeGrantsOf(trx, 'user', params.id);
          await repo.deleteUser(trx, params.id);
          await audit(trx, principal, 'user.deleted', `user:${cur.username}`, { uid: cur.uid });
        } else if (cur.status !== 'disabled') {
          await repo.disableUser(trx, params.id);
          await audit(trx, principal, 'user.disabled', `user:${cur.username}`, {});
        }
      });
      await revokeUserSessions(ctx, params.id);
    },
  );

  api.route(
    'post',
    '/v1/users/:id/password',
    {
      summary: "Set a user's password (scrypt; never returned)",
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.SetPassword,
    },
    async ({ params, body, principal }) => {
      const hash = await hashPassword(body.password);
      await write(ctx, {}, async (trx) => {
        const cur = await loadUser(trx, params.id);
        await repo.setPasswordHash(trx, params.id, hash);
        await audit(trx, principal, 'user.password_set', `user:${cur.username}`, {});
      });
      // Whoever knew the old password may hold a web session made with it.
      await revokeUserSessions(ctx, params.id);
    },
  );

  api.route(
    'post',
    '/v1/users/:id/totp',
    {
      summary: 'Enrol a fresh TOTP seed; the seed is returned this once',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      response: c.TotpEnrolment,
      status: 201,
    },
    async ({ params, principal, res }) => {
      const secret = newTotpSecret();
      const out = await write(ctx, {}, async (trx) => {
        const cur = await loadUser(trx, params.id);
        await repo.setTotpSecret(trx, params.id, ctx.secrets.seal(secret, 'totp'));
        await audit(trx, principal, 'user.totp_enrolled', `user:${cur.username}`, {
          replaced: cur.totp_secret_enc != null,
        });
        return { secret, uri: totpUri(cur.username, secret) };
      });
      res.setHeader('cache-control', 'no-store');
      return out;
    },
  );

  api.route(
    'delete',
    '/v1/users/:id/totp',
    { summary: "Remove a user's TOTP seed", tags, auth: auth.admin(), security: 'admin', params: c.IdParams },
    async ({ params, principal }) => {
      await write(ctx, {}, async (trx) => {
        const cur = await loadUser(trx, params.id);
        if (cur.totp_secret_enc == null) return;
        await repo.setTotpSecret(trx, params.id, null);
        await audit(trx, principal, 'user.totp_removed', `user:${cur.username}`, {});
      });
    },
  );

  api.route(
    'get',
    '/v1/users/:id/keys',
    {
      summary: "List a user's SSH public keys",
      tags,
      auth: readers(auth),
      security: 'admin',
      params: c.IdParams,
      response: c.UserKeyList,
    },
    async ({ params }) => ({ items: await listUserKeys(ctx, params.id) }),
  );

  api.route(
    'post',
    '/v1/users/:id/keys',
    {
      summary: 'Add an SSH public key to a user',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.UserKeyCreate,
      response: c.UserKey,
      status: 201,
    },
    async ({ params, body, principal }) => addUserKey(ctx, principal, params.id, body),
  );

  api.route(
    'delete',
    '/v1/users/:id/keys/:keyId',
    {
      summary: 'Remove an SSH public key from a user',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.UserKeyParams,
    },
    async ({ params, principal }) => removeUserKey(ctx, principal, params.id, params.keyId),
  );
};
