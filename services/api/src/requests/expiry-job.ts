// The timer that expires access requests nobody decided in time. Reads do it
// lazily too; the timer makes the expiry (and its audit entry) happen even when
// nobody looks. Safe on many instances: expireRequests claims each row once.
import type { Ctx } from '../context.js';
import { expireRequests } from './repository.js';

const EXPIRY_INTERVAL_MS = 60_000;

/** Starts the timer (unref'd: it never keeps the process alive); stop() ends it. */
export function startRequestExpiry(
  ctx: Pick<Ctx, 'db' | 'log' | 'now'>,
  intervalMs = EXPIRY_INTERVAL_MS,
): { stop: () => void } {
  const timer = setInterval(() => {
    expireRequests(ctx.db, ctx.now()).then(
      (ids) => {
        if (ids.length) ctx.log.info({ requests: ids }, 'access requests expired');
      },
      (err) => ctx.log.warn({ err }, 'expiring access requests failed'),
    );
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
