import { z } from 'zod';
import { contract, JmpError } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { actorOf, checkSessionToken, mintSession, SESSION_COOKIE, sessionTokenOf } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import { passwordLogin, publicKeyLogin, toAuthUser, webCredentialLogin } from './login.js';
import { revokeSession } from './sessions.js';
import { userById } from './repository.js';

export const authRoutes: RouteModule = (api, ctx, auth) => {
  api.route(
    'post',
    '/v1/auth/ssh',
    {
      summary:
        'Check a login to jmp itself (password then TOTP, a public key, or a one-time web credential); used by jmp-ssh',
      tags: ['auth'],
      auth: auth.service('ssh', 'sftp'),
      security: 'service',
      body: contract.AuthSshRequest,
      response: contract.AuthSshResponse,
    },
    async ({ body, principal, req }) => {
      // Web credentials log in to jmp-ssh only; no other service may spend them.
      if (body.method === 'web-credential' && !(principal.kind === 'service' && principal.role === 'ssh'))
        throw new JmpError('forbidden', 'only jmp-ssh may log in with a web credential');
      const user =
        body.method === 'password'
          ? // The person's address as jmp-ssh saw it; without one, the calling service's own (one shared limit).
            await passwordLogin(
              ctx,
              body.username,
              body.password,
              body.totp,
              body.source ?? `${actorOf(principal)}@${req.ip ?? 'unknown'}`,
            )
          : body.method === 'publickey'
            ? await publicKeyLogin(ctx, body.username, body.publicKey, body.source)
            : await webCredentialLogin(ctx, body.username, body.credential, body.source);
      return { ok: true as const, user };
    },
  );

  api.route(
    'post',
    '/v1/auth/web',
    {
      summary: 'Log in to the web console: sets an HttpOnly session cookie, returns the CSRF token',
      tags: ['auth'],
      auth: null,
      body: contract.AuthWebRequest,
      response: contract.AuthWebResponse,
    },
    async ({ body, req, res }) => {
      const user = await passwordLogin(ctx, body.username, body.password, body.totp, req.ip ?? 'unknown');
      const s = mintSession(ctx, {
        id: user.id,
        username: user.username,
        isAdmin: user.isAdmin,
        isAuditor: user.isAuditor,
      });
      res.cookie(SESSION_COOKIE, s.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: ctx.config.secureCookies,
        path: '/',
        maxAge: ctx.config.sessionTtlSeconds * 1000,
      });
      return { ok: true as const, user, csrfToken: s.csrfToken, expiresAt: s.expiresAt.toISOString() };
    },
  );

  api.route(
    'post',
    '/v1/auth/logout',
    { summary: 'End the web session: revoked on the server, the cookie cleared', tags: ['auth'], auth: null },
    async ({ req, res }) => {
      // A copied cookie must stop working too, so the session's id is revoked until it would have expired.
      const token = sessionTokenOf(req);
      const s = token ? checkSessionToken(ctx, token) : 'invalid';
      if (typeof s === 'object' && typeof s.jti === 'string') {
        await revokeSession(ctx, s.jti, Math.ceil(s.expiresAt.getTime() / 1000));
        await appendAudit(ctx.db, {
          actor: `user:${s.username}`,
          action: 'auth.logout',
          target: s.username,
          data: { source: req.ip ?? null },
        });
      }
      res.clearCookie(SESSION_COOKIE, {
        httpOnly: true,
        sameSite: 'strict',
        secure: ctx.config.secureCookies,
        path: '/',
      });
      return undefined;
    },
  );

  api.route(
    'get',
    '/v1/me',
    {
      summary: 'The logged-in person',
      tags: ['auth'],
      auth: auth.user(),
      security: 'user',
      response: z.object({ user: contract.AuthUser }),
    },
    async ({ principal }) => {
      if (principal.kind !== 'user') throw new Error('unreachable');
      const row = await userById(ctx.db, principal.user.id);
      // Deleted between the session check and this read.
      if (!row) throw new JmpError('unauthorized', 'this user no longer exists; log in again');
      return { user: toAuthUser(row) };
    },
  );
};
