// Self-service for the logged-in person: her TOTP enrolment (the seed becomes
// active only after a code from the app proves it was scanned; recovery is an
// administrator's reset), her SSH public keys, and her rights with where each
// comes from. Sessions are GET /v1/sessions (her own by default).
import { JmpError, contract as c } from '@jmp/contract';
import { MyRights, MyTotp, MyTotpConfirm, MyTotpStart } from '@jmp/contract/schemas/auth';
import type { RouteModule } from '../http/app.js';
import type { Principal } from '../http/auth.js';
import { newTotpSecret, totpUri, checkTotp } from '../crypto/totp.js';
import { TOTP_PURPOSE } from '../auth/login.js';
import { storeCall } from '../store/store.js';
import { appendAudit } from '../audit/audit.js';
import { addUserKey, listUserKeys, removeUserKey } from '../admin/user-keys.js';
import * as repo from './repository.js';
import { describeRights } from './rights.js';

/** How long a started enrolment waits for its confirmation code. */
export const TOTP_PENDING_MS = 10 * 60_000;
/** Wrong confirmation codes allowed per pending enrolment. */
const CONFIRM_ATTEMPTS = 10;
const pendingKey = (userId: number) => `totp-pending:${userId}`;
const attemptsKey = (userId: number) => `totp-confirm:${userId}`;

const me = (p: Principal) => {
  if (p.kind !== 'user') throw new Error('unreachable');
  return p.user;
};

export const meRoutes: RouteModule = (api, ctx, auth) => {
  const tags = ['self-service'];

  api.route(
    'get',
    '/v1/me/totp',
    {
      summary: 'Whether your TOTP is active, or an enrolment waits for its code',
      tags,
      auth: auth.user(),
      security: 'user',
      response: MyTotp,
    },
    async ({ principal }) => {
      const u = me(principal);
      const [enabled, pending] = await Promise.all([
        repo.hasTotp(ctx.db, u.id),
        storeCall(() => ctx.store.get(pendingKey(u.id))),
      ]);
      return { enabled, pending: !enabled && pending !== null };
    },
  );

  api.route(
    'post',
    '/v1/me/totp',
    {
      summary: 'Start your TOTP enrolment: a new seed, shown this once, active after POST /v1/me/totp/confirm',
      tags,
      auth: auth.user(),
      security: 'user',
      response: MyTotpStart,
      status: 201,
    },
    async ({ principal, res }) => {
      const u = me(principal);
      if (await repo.hasTotp(ctx.db, u.id))
        throw new JmpError('conflict', 'your TOTP is already active; to replace it, ask an administrator to reset it');
      const secret = newTotpSecret();
      await storeCall(() => ctx.store.set(pendingKey(u.id), ctx.secrets.seal(secret, TOTP_PURPOSE), TOTP_PENDING_MS));
      await storeCall(() => ctx.store.del(attemptsKey(u.id)));
      res.setHeader('cache-control', 'no-store');
      return {
        secret,
        uri: totpUri(u.username, secret),
        expiresAt: new Date(ctx.now().getTime() + TOTP_PENDING_MS).toISOString(),
      };
    },
  );

  api.route(
    'post',
    '/v1/me/totp/confirm',
    {
      summary: 'Confirm your TOTP enrolment with a code from the app; from then on logins ask for a code',
      tags,
      auth: auth.user(),
      security: 'user',
      body: MyTotpConfirm,
    },
    async ({ principal, body }) => {
      const u = me(principal);
      const sealed = await storeCall(() => ctx.store.get(pendingKey(u.id)));
      if (!sealed) throw new JmpError('conflict', 'no TOTP enrolment is waiting (it lasts 10 minutes); start again');
      const tries = await storeCall(() => ctx.store.increment(attemptsKey(u.id), TOTP_PENDING_MS));
      if (tries > CONFIRM_ATTEMPTS) {
        await storeCall(() => ctx.store.del(pendingKey(u.id)));
        throw new JmpError('too_many_requests', 'too many wrong codes; start the enrolment again');
      }
      const secret = ctx.secrets.open(sealed, TOTP_PURPOSE);
      if (
        !checkTotp(body.code, secret) ||
        !(await storeCall(() => ctx.store.setIfAbsent(`totp-used:${u.id}:${body.code}`, '1', 120_000)))
      )
        throw new JmpError(
          'bad_request',
          'body.code: wrong code; check the time on your phone and enter the current code',
          {
            field: 'body.code',
          },
        );
      if (!(await repo.setTotpIfNone(ctx.db, u.id, sealed)))
        throw new JmpError('conflict', 'your TOTP is already active; to replace it, ask an administrator to reset it');
      await storeCall(() => ctx.store.del(pendingKey(u.id)));
      await appendAudit(ctx.db, {
        actor: `user:${u.username}`,
        action: 'user.totp_enrolled',
        target: `user:${u.username}`,
        data: { self: true },
      });
      return undefined;
    },
  );

  api.route(
    'get',
    '/v1/me/keys',
    { summary: 'Your SSH public keys', tags, auth: auth.user(), security: 'user', response: c.UserKeyList },
    async ({ principal }) => ({ items: await listUserKeys(ctx, me(principal).id) }),
  );

  api.route(
    'post',
    '/v1/me/keys',
    {
      summary: 'Add an SSH public key to your account',
      tags,
      auth: auth.user(),
      security: 'user',
      body: c.UserKeyCreate,
      response: c.UserKey,
      status: 201,
    },
    async ({ principal, body }) => addUserKey(ctx, principal, me(principal).id, body),
  );

  api.route(
    'delete',
    '/v1/me/keys/:keyId',
    {
      summary: 'Remove one of your SSH public keys',
      tags,
      auth: auth.user(),
      security: 'user',
      params: c.UserKeyParams.pick({ keyId: true }),
    },
    async ({ principal, params }) => removeUserKey(ctx, principal, me(principal).id, params.keyId),
  );

  api.route(
    'get',
    '/v1/me/rights',
    {
      summary: 'Your rights and where each comes from (a role, a grant, an approved request)',
      tags,
      auth: auth.user(),
      security: 'user',
      response: MyRights,
    },
    async ({ principal }) => {
      const u = me(principal);
      const [roles, grants] = await Promise.all([
        repo.rolesOf(ctx.db, u.id),
        repo.departmentOf(ctx.db, u.id).then((d) => repo.grantsOf(ctx.db, u.id, d, ctx.now())),
      ]);
      const names = await repo.scopeNames(ctx.db, [...roles, ...grants]);
      return { items: describeRights(roles, grants, names) };
    },
  );
};
