// Hop tickets (DESIGN flow 11): a person on a target asks its agent for a
// ticket to another host. jmp-api grants one only while that person has a live
// jmp session on the calling host, and binds it to that session, so root on a
// target cannot mint logins for whoever merely may log in there, and every hop
// sits inside a recorded session. Each end's service can switch hops off.
import type { Ctx } from '../context.js';
import { liveFlags } from '../sessions/live.js';
import { hopSettings, openSessionIdsOn } from './repository.js';

/** A person rarely has more than a few sessions on one host; bound the live-registry read. */
const MAX_CANDIDATES = 50;

type Refusal = { ok: false; reason: string };
export type ParentCheck = { ok: true; parentSession: string } | Refusal;

/** Whether both hosts' services allow hop tickets (a host without a service takes the default, on). */
export async function hopsAllowed(ctx: Ctx, fromHostId: number, toHostname: string): Promise<{ ok: true } | Refusal> {
  for (const r of await hopSettings(ctx.db, fromHostId, toHostname)) {
    if (r.hop_tickets === false) {
      const end = r.id === fromHostId ? 'from' : 'to';
      return { ok: false, reason: `hop tickets are off for service ${r.service}, so no hop ${end} ${r.hostname}` };
    }
  }
  return { ok: true };
}

/**
 * The live jmp session of `username` on the host the hop starts from: the one
 * the agent named (it must be live and theirs), else the newest live one.
 */
export async function parentSession(
  ctx: Ctx,
  username: string,
  host: { hostId: number; hostname: string },
  named?: string,
): Promise<ParentCheck> {
  const none: Refusal = {
    ok: false,
    reason: `${username} has no live jmp session on ${host.hostname}; hop tickets are only issued inside one`,
  };
  const open = await openSessionIdsOn(ctx.db, username, host.hostId, MAX_CANDIDATES);
  if (!open.length) return none;
  const live = await liveFlags(ctx.store, open);
  const candidates = open.filter((_, i) => live[i]);
  if (named !== undefined) {
    return candidates.includes(named)
      ? { ok: true, parentSession: named }
      : { ok: false, reason: `session ${named} is not a live jmp session of ${username} on ${host.hostname}` };
  }
  return candidates[0] ? { ok: true, parentSession: candidates[0] } : none;
}
