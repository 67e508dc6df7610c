// Tickets an agent spent while it decided offline: recorded under the same
// single-use key the online path takes (jti:<id>, SET NX), so a ticket used
// once offline is refused online afterwards, whichever way it comes back.
import type { Ctx } from '../context.js';
import { storeCall } from '../store/store.js';
import { MAX_TICKET_TTL_S, TICKET_CLOCK_SKEW_S } from '../tickets/tickets.js';

const JTI_RE = /^[A-Za-z0-9._~-]{1,128}$/;
/** A key outlives its ticket by this much (as on the online path). */
const KEEP_AFTER_EXP_MS = 60_000;
const MAX_KEEP_MS = (MAX_TICKET_TTL_S + TICKET_CLOCK_SKEW_S) * 1000 + KEEP_AFTER_EXP_MS;

export const spentKey = (jti: string) => `jti:${jti}`;

/** How long the single-use key for a ticket expiring at `exp` (s) must live; 0 when it can no longer verify anyway. */
export function spentTtlMs(exp: number, nowMs: number): number {
  const ms = exp * 1000 - nowMs + KEEP_AFTER_EXP_MS;
  return ms <= 0 ? 0 : Math.min(Math.max(1000, ms), MAX_KEEP_MS);
}

/**
 * From a batch of agent events, the offline auth decisions that spent a
 * ticket ({op:'auth', jti, exp} in the detail). Throws when the store is down
 * (the agent keeps the batch and sends it again).
 */
export async function recordOfflineSpent(
  ctx: Ctx,
  hostId: number,
  events: Array<{ type: string; detail: Record<string, unknown> }>,
): Promise<number> {
  let n = 0;
  const now = Date.now();
  for (const e of events) {
    if (e.type !== 'offline_decision' || e.detail['op'] !== 'auth') continue;
    const jti = e.detail['jti'];
    const exp = e.detail['exp'];
    if (typeof jti !== 'string' || !JTI_RE.test(jti) || typeof exp !== 'number' || !Number.isFinite(exp)) continue;
    const ttl = spentTtlMs(exp, now);
    if (ttl === 0) continue;
    await storeCall(() => ctx.store.setIfAbsent(spentKey(jti), String(hostId), ttl));
    n++;
  }
  return n;
}
