// One-time web credentials: jmp-socket trades the browser's session cookie
// for a credential that logs in to jmp-ssh once, within 30 s
// (JMP_WEB_CREDENTIAL_TTL_SECONDS), as that user.
// Only a hash is kept in the store; the value itself exists in the answer.
import { randomBytes } from 'node:crypto';
import { JmpError } from '@jmp/contract';
import { WEB_CREDENTIAL_PREFIX, type WebSshCredentialResponse } from '@jmp/contract/schemas/web';
import type { Ctx } from '../context.js';
import { checkSessionToken } from '../http/auth.js';
import { sha256hex } from '../crypto/secrets.js';
import { storeCall } from '../store/store.js';
import { sessionRevoked } from '../auth/sessions.js';

// The spent mark outlives the credential, so a late second use still reads "already used".
const SPENT_AFTER_EXPIRY_MS = 60_000;

const liveKey = (hash: string) => `webcred:${hash}`;
const spentKey = (hash: string) => `webcred-spent:${hash}`;

export async function issueWebCredential(ctx: Ctx, session: string): Promise<WebSshCredentialResponse> {
  const s = checkSessionToken(ctx, session);
  if (s === 'expired') throw new JmpError('unauthorized', 'your web session expired, log in again');
  if (s === 'invalid') throw new JmpError('unauthorized', 'the web session is not valid; log in again');
  if (await sessionRevoked(ctx, s))
    throw new JmpError('unauthorized', 'this web session was ended (logged out or password changed); log in again');
  const row = (await ctx.db('users').where({ id: s.uid }).first('id', 'username', 'status')) as
    { id: number; username: string; status: string } | undefined;
  if (!row || row.username !== s.username)
    throw new JmpError('unauthorized', 'the web session is not valid; log in again');
  if (row.status !== 'active')
    throw new JmpError('unauthorized', `user ${row.username} is disabled; ask an administrator`);
  const credential = `${WEB_CREDENTIAL_PREFIX}${randomBytes(32).toString('base64url')}`;
  const ttlMs = ctx.config.webCredentialTtlSeconds * 1000;
  const stored = await storeCall(() => ctx.store.setIfAbsent(liveKey(sha256hex(credential)), String(row.id), ttlMs));
  if (!stored) throw new JmpError('internal', 'could not store a fresh web credential; try again');
  ctx.log.info({ user: row.username }, 'web credential issued');
  return {
    username: row.username,
    credential,
    expiresAt: new Date(Date.now() + ttlMs).toISOString(),
    sessionExpiresAt: s.expiresAt.toISOString(),
  };
}

/**
 * Spends a credential; returns the id of the user it was issued to. Setting
 * the spent mark (SET NX) is the one atomic step: of two concurrent uses,
 * on any number of jmp-api instances, exactly one gets past it.
 */
export async function spendWebCredential(ctx: Ctx, credential: string): Promise<number> {
  const hash = sha256hex(credential);
  const first = await storeCall(() =>
    ctx.store.setIfAbsent(spentKey(hash), '1', ctx.config.webCredentialTtlSeconds * 1000 + SPENT_AFTER_EXPIRY_MS),
  );
  if (!first) throw new JmpError('unauthorized', 'this web credential was already used; open the terminal again');
  const userId = await storeCall(() => ctx.store.get(liveKey(hash)));
  if (!userId) throw new JmpError('unauthorized', 'the web credential is unknown or expired; open the terminal again');
  await storeCall(() => ctx.store.del(liveKey(hash)));
  return Number(userId);
}
