// PAM decisions from the cached snapshot, when jmp-api does not answer.
// Same rights as jmp-api (docs/decisions.md): auth needs a valid unused
// ticket and the login right; account is the login right; sudo/su to
// oneself is the login right, to anyone else the root right; sessions are
// always allowed (they never fail a login).
import type { AccountRequest, AuthRequest, SessionRequest, SudoRequest } from '../protocol/line.js';
import type { PolicyStore } from '../policy/store.js';
import type { SpentJtiStore } from './spent.js';
import { uptime } from 'node:os';
import { isCompactTicket } from '@jmp/contract/compact-ticket';
import { CLOCK_TOLERANCE_S, verifyCompactTicketOffline, verifyTicketOffline } from './ticket.js';

export type PamRequest = AuthRequest | AccountRequest | SudoRequest | SessionRequest;

export interface Verdict {
  allow: boolean;
  reason: string;
}

export interface OfflineContext {
  hostId: number;
  hostname: string;
  policy: Pick<PolicyStore, 'user' | 'ticketKey' | 'compactTicketKey'>;
  spent: Pick<SpentJtiStore, 'add'>;
  /** When this machine last started (epoch seconds); see bootedAtS(). */
  bootedAtS: number;
  nowMs?: number;
}

/**
 * The spent set is written without fsync: the page cache outlives a crash of
 * the agent, not one of the machine. A ticket issued before the machine last
 * started may have been spent in a record the crash lost, so offline it is
 * refused (tickets live ≤ 60 s; only those minted around a reboot are hit).
 */
export function bootedAtS(): number {
  return Math.floor(Date.now() / 1000 - uptime());
}

export function decideOffline(req: PamRequest, ctx: OfflineContext): Verdict {
  const on = ctx.hostname;
  const login = (user: string): Verdict => {
    const u = ctx.policy.user(user);
    return u?.login
      ? { allow: true, reason: `${user} has the login right on ${on} (offline)` }
      : { allow: false, reason: `no login right for ${user} on ${on} (offline)` };
  };
  switch (req.op) {
    case 'auth': {
      const t = isCompactTicket(req.ticket)
        ? verifyCompactTicketOffline(
            req.ticket,
            req.user,
            ctx.hostId,
            (id) => ctx.policy.compactTicketKey(id),
            ctx.nowMs,
          )
        : verifyTicketOffline(req.ticket, req.user, ctx.hostId, (kid) => ctx.policy.ticketKey(kid), ctx.nowMs);
      if (!t.ok) return { allow: false, reason: `${t.reason} (offline)` };
      if (t.iat <= ctx.bootedAtS + CLOCK_TOLERANCE_S)
        return { allow: false, reason: 'ticket was issued before this host last started (offline)' };
      if (!ctx.spent.add(t.jti, t.exp)) return { allow: false, reason: 'ticket has already been used (offline)' };
      return login(req.user);
    }
    case 'account':
      return login(req.user);
    case 'sudo':
    case 'su': {
      // As jmp-api: sudo never reveals its target to PAM, so every sudo needs root; su to oneself is login.
      if (req.op === 'su' && req.runas === req.user) return login(req.user);
      const u = ctx.policy.user(req.user);
      return u?.root
        ? { allow: true, reason: `${req.user} has the root right on ${on} (offline)` }
        : { allow: false, reason: `no root right for ${req.user} on ${on} (offline)` };
    }
    case 'session_open':
    case 'session_close':
      return { allow: true, reason: 'recorded (offline)' };
  }
}
