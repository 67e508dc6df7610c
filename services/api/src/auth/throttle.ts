// Guessing limits for passwords and TOTP codes. An attempt is counted in the
// shared store BEFORE anything is verified (an atomic reserve), so a burst of
// parallel guesses cannot all pass a check made before any of them failed:
// per person at most JMP_LOCKOUT_THRESHOLD guesses are ever verified per
// lockout window, and per client address at most JMP_LOGIN_RATE_PER_MINUTE
// attempts a minute over all usernames (password spraying). Only a complete
// login resets the person's counter. An attempt that guessed nothing wrong
// gives its address slot back, so an office behind one NAT address can log
// in all morning; wrong guesses keep theirs.
import { JmpError } from '@jmp/contract';
import type { Ctx } from '../context.js';
import { appendAudit } from '../audit/audit.js';
import { storeCall } from '../store/store.js';

const userKey = (username: string) => `authfail:${username}`;
const sourceKey = (source: string) => `authsrc:${source}`;
// Refusals are audited once per window: the limits exist so that floods stay cheap.
const notedKey = (key: string) => `authnoted:${key}`;
const SOURCE_WINDOW_MS = 60_000;

const minutes = (ms: number) => {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return `${m} minute${m === 1 ? '' : 's'}`;
};
const seconds = (ms: number) => {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return `${s} second${s === 1 ? '' : 's'}`;
};

async function noteRefusal(ctx: Ctx, key: string, retryMs: number, audit: () => Promise<void>): Promise<void> {
  if (await storeCall(() => ctx.store.setIfAbsent(notedKey(key), '1', Math.max(1000, retryMs)))) await audit();
}

/** One login attempt of a person: reserved before verifying, then settled exactly once. */
export interface Attempt {
  /** A factor was wrong: the attempt stays counted; the one that fills the last slot locks the account. */
  failed(why: string): Promise<void>;
  /** The password was right and the TOTP code is still to come: nothing was guessed wrong, give the slot back. */
  pending(): Promise<void>;
  /** Both factors were right: the count starts again. */
  succeeded(): Promise<void>;
}

/**
 * Takes an attempt for `username` from `source` (the person's client address),
 * or throws: 429 when the address is over its rate, 423 when the account is
 * locked. Nothing is verified when it throws.
 */
export async function takeAttempt(ctx: Ctx, username: string, source: string): Promise<Attempt> {
  const srcKey = sourceKey(source);
  const src = await storeCall(() => ctx.store.reserve(srcKey, ctx.config.loginRatePerMinute, SOURCE_WINDOW_MS));
  if (!src.ok) {
    ctx.log.warn({ username, source }, 'login refused: too many attempts from this address');
    await noteRefusal(ctx, srcKey, src.retryMs, () =>
      appendAudit(ctx.db, {
        actor: `user:${username}`,
        action: 'auth.rate_limited',
        target: source,
        data: { username, source, limit: ctx.config.loginRatePerMinute, retrySeconds: Math.ceil(src.retryMs / 1000) },
      }),
    );
    throw new JmpError(
      'too_many_requests',
      `too many login attempts from ${source}; try again in ${seconds(src.retryMs)}`,
    );
  }

  const threshold = ctx.config.lockoutThreshold;
  const lockMs = ctx.config.lockoutSeconds * 1000;
  const key = userKey(username);
  const mine = await storeCall(() => ctx.store.reserve(key, threshold, lockMs));
  if (!mine.ok) {
    await storeCall(() => ctx.store.release(srcKey)); // nothing was tried
    ctx.log.warn({ username, source }, 'login refused: account locked');
    await noteRefusal(ctx, key, mine.retryMs, () =>
      appendAudit(ctx.db, {
        actor: `user:${username}`,
        action: 'auth.refused',
        target: username,
        data: { why: 'locked', source, retrySeconds: Math.ceil(mine.retryMs / 1000) },
      }),
    );
    throw new JmpError(
      'locked',
      `too many failed logins: account ${username} is locked after ${mine.count} failed logins; ` +
        `try again in ${minutes(mine.retryMs)} or ask an administrator`,
    );
  }

  let settled = false;
  const once = () => {
    if (settled) throw new Error('login attempt settled twice');
    settled = true;
  };
  return {
    async failed(why) {
      once();
      ctx.log.warn({ username, source, why, attempt: mine.count }, 'login failed');
      await appendAudit(ctx.db, {
        actor: `user:${username}`,
        action: 'auth.failed',
        target: username,
        data: { why, source, failures: mine.count },
      });
      if (mine.count >= threshold) {
        // The lock lasts the full period from the failure that set it, not from the first one.
        await storeCall(() => ctx.store.expire(key, lockMs));
        await appendAudit(ctx.db, {
          actor: 'jmp-api',
          action: 'auth.locked',
          target: username,
          data: { seconds: ctx.config.lockoutSeconds, source },
        });
      }
    },
    async pending() {
      once();
      await storeCall(() => ctx.store.release(key));
      await storeCall(() => ctx.store.release(srcKey));
    },
    async succeeded() {
      once();
      await storeCall(() => ctx.store.del(key));
      await storeCall(() => ctx.store.release(srcKey));
    },
  };
}
