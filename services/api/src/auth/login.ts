// Checks a person's password (then TOTP when they have one) or SSH public key;
// password and TOTP guesses are limited by auth/throttle.ts.
import { JmpError } from '@jmp/contract';
import type { AuthUser } from '@jmp/contract/schemas/auth';
import type { Ctx } from '../context.js';
import { verifyPassword } from '../crypto/passwords.js';
import { checkTotp } from '../crypto/totp.js';
import { appendAudit } from '../audit/audit.js';
import { storeCall } from '../store/store.js';
import { takeAttempt } from './throttle.js';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';
import { spendWebCredential } from '../web/credentials.js';
import { sshKeyByFingerprint, userById, userByName, type UserRow } from './repository.js';

export const TOTP_PURPOSE = 'totp';

export function toAuthUser(u: UserRow): AuthUser {
  return {
    id: u.id,
    username: u.username,
    uid: u.uid,
    displayName: u.display_name,
    email: u.email,
    isAdmin: u.is_admin,
    isAuditor: u.is_auditor,
  };
}

const WRONG = 'wrong username or password';

/**
 * Password, then TOTP when the person has a seed. The attempt is taken before
 * anything is verified (auth/throttle.ts); `source` is the person's client
 * address, which the per-address limit counts.
 */
export async function passwordLogin(
  ctx: Ctx,
  username: string,
  password: string,
  totp: string | undefined,
  source: string,
): Promise<AuthUser> {
  const attempt = await takeAttempt(ctx, username, source);
  const u = await userByName(ctx.db, username);
  const ok = await verifyPassword(password, u?.password_hash ?? null);
  if (!u || !ok) {
    await attempt.failed(u ? 'password' : 'unknown user');
    throw new JmpError('unauthorized', WRONG);
  }
  if (u.status !== 'active') {
    await attempt.failed('disabled');
    throw new JmpError('forbidden', `user ${username} is disabled; ask an administrator`);
  }
  if (u.totp_secret_enc) {
    if (!totp) {
      await attempt.pending();
      throw new JmpError('totp_required', 'enter the 6-digit code from your authenticator app');
    }
    const secret = ctx.secrets.open(u.totp_secret_enc, TOTP_PURPOSE);
    // A code is good once: a shoulder-surfed code cannot be replayed in its window.
    if (
      !checkTotp(totp, secret) ||
      !(await storeCall(() => ctx.store.setIfAbsent(`totp-used:${u.id}:${totp}`, '1', 120_000)))
    ) {
      await attempt.failed('totp');
      throw new JmpError('unauthorized', 'wrong or already used TOTP code');
    }
  }
  await attempt.succeeded();
  await appendAudit(ctx.db, {
    actor: `user:${username}`,
    action: 'auth.login',
    target: username,
    data: { method: u.totp_secret_enc ? 'password+totp' : 'password', source },
  });
  return toAuthUser(u);
}

export async function publicKeyLogin(
  ctx: Ctx,
  username: string,
  publicKey: string,
  source?: string,
): Promise<AuthUser> {
  const u = await userByName(ctx.db, username);
  const parsed = parseSshPublicKey(publicKey);
  if (typeof parsed === 'string') throw new JmpError('bad_request', `body.publicKey: ${parsed}`);
  const fp = parsed.fingerprint;
  const key = u ? await sshKeyByFingerprint(ctx.db, u.id, fp) : undefined;
  const stored = key ? parseSshPublicKey(key) : null;
  if (!u || !stored || typeof stored === 'string' || !stored.blob.equals(parsed.blob)) {
    // Clients offer several keys in turn; unknown keys are not password guesses, so they do not count toward lockout.
    throw new JmpError('unauthorized', 'public key not accepted');
  }
  if (u.status !== 'active') throw new JmpError('forbidden', `user ${username} is disabled; ask an administrator`);
  await appendAudit(ctx.db, {
    actor: `user:${username}`,
    action: 'auth.login',
    target: username,
    data: { method: 'publickey', fingerprint: fp, source: source ?? null },
  });
  return toAuthUser(u);
}

/**
 * jmp-socket's one-time credential, issued after the web login (password and
 * TOTP): it stands for both factors (docs/decisions.md, web terminal). Not
 * counted toward lockout: 256 random bits are not guessed, and a locked-out
 * web session would otherwise lose its terminals to someone else's typos.
 */
export async function webCredentialLogin(
  ctx: Ctx,
  username: string,
  credential: string,
  source?: string,
): Promise<AuthUser> {
  let userId: number;
  try {
    userId = await spendWebCredential(ctx, credential);
  } catch (err) {
    if (err instanceof JmpError) ctx.log.warn({ username, source, why: err.message }, 'web credential refused');
    throw err;
  }
  const u = await userById(ctx.db, userId);
  if (!u || u.username !== username) throw new JmpError('unauthorized', 'this web credential belongs to another user');
  if (u.status !== 'active') throw new JmpError('forbidden', `user ${username} is disabled; ask an administrator`);
  await appendAudit(ctx.db, {
    actor: `user:${username}`,
    action: 'auth.login',
    target: username,
    data: { method: 'web-credential', source: source ?? null },
  });
  return toAuthUser(u);
}
