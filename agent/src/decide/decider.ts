// Every PAM question: jmp-api first, within the decision deadline; when it
// does not answer properly, the cached snapshot (mode offline); with no
// snapshot, the default (mode default). Degraded decisions are logged and
// queued for jmp-api as offline_decision events.
//
// While jmp-api is down, one question at a time, at most every
// RETRY_ONLINE_MS, tries it again; the others are decided offline at once.
// A jmp-api that hangs then costs one deadline per second, not one per login.
import type { Logger } from '@jmp/common';
import type { AgentMode } from '../protocol/line.js';
import { isApiDown, type AgentApi } from '../api/client.js';
import type { ApiHealth } from '../api/health.js';
import type { PolicyStore } from '../policy/store.js';
import type { EventQueue } from '../report/events.js';
import { bootedAtS, decideOffline, type PamRequest, type Verdict } from './offline.js';
import type { SpentJtiStore } from './spent.js';
import { peekTicketJti } from './ticket.js';

export interface Decision extends Verdict {
  mode: AgentMode;
}

export interface DeciderDeps {
  /** The api and this host's identity, or null while not enrolled. */
  target: () => { api: AgentApi; hostId: number; hostname: string } | null;
  health: ApiHealth;
  policy: PolicyStore;
  spent: SpentJtiStore;
  events: Pick<EventQueue, 'push'>;
  /** With no snapshot: deny or allow. */
  noSnapshot: () => 'deny' | 'allow';
  log: Pick<Logger, 'warn' | 'info' | 'error'>;
  onDecision?: (req: PamRequest, d: Decision) => void;
}

/** While jmp-api is down, how often a question tries it again. */
export const RETRY_ONLINE_MS = 1000;

export class Decider {
  private readonly bootedAt = bootedAtS();
  private probing = false;
  /** When a question last went to jmp-api. */
  private lastAskedAt = -Infinity;
  constructor(private readonly d: DeciderDeps, private readonly nowMs: () => number = () => performance.now()) {}

  async decide(req: PamRequest): Promise<Decision> {
    const target = this.d.target();
    let decision: Decision | null = null;
    if (target && this.mayAskOnline()) {
      const probe = this.d.health.state === 'down';
      this.lastAskedAt = this.nowMs();
      if (probe) this.probing = true;
      try { decision = await this.online(req, target.api); } finally { if (probe) this.probing = false; }
    }
    if (!decision) decision = this.degraded(req, target);
    this.d.onDecision?.(req, decision);
    return decision;
  }

  private mayAskOnline(): boolean {
    if (this.d.health.state !== 'down') return true;
    return !this.probing && this.nowMs() - this.lastAskedAt >= RETRY_ONLINE_MS;
  }

  private async online(req: PamRequest, api: AgentApi): Promise<Decision | null> {
    try {
      const r = await api.decide.pamDecide({
        op: req.op,
        user: req.user,
        ...('runas' in req && req.runas ? { runas: req.runas } : {}),
        ...(req.service !== undefined ? { service: req.service } : {}),
        ...('rhost' in req && req.rhost !== undefined ? { rhost: req.rhost } : {}),
        ...(req.tty !== undefined ? { tty: req.tty } : {}),
        ...(req.op === 'auth' ? { ticket: req.ticket } : {}),
      });
      this.d.health.ok();
      this.rememberTicket(req);
      return { allow: r.allow, reason: r.reason, mode: 'online' };
    } catch (err) {
      if (isApiDown(err)) {
        this.d.health.down((err as Error).message);
        return null;
      }
      // jmp-api answered and refused the question itself (400, 401, 403…): its word stands.
      this.d.health.ok();
      this.rememberTicket(req);
      this.d.log.warn({ op: req.op, user: req.user, err: (err as Error).message }, 'jmp-api refused the question');
      return { allow: false, reason: (err as Error).message, mode: 'online' };
    }
  }

  /** A ticket jmp-api has seen is spent there; remember it so it cannot be replayed offline. */
  private rememberTicket(req: PamRequest): void {
    if (req.op !== 'auth') return;
    const t = peekTicketJti(req.ticket);
    if (t) this.d.spent.add(t.jti, t.exp);
  }

  private degraded(req: PamRequest, target: { hostId: number; hostname: string } | null): Decision {
    let decision: Decision;
    if (target && this.d.policy.current) {
      decision = { ...decideOffline(req, { hostId: target.hostId, hostname: target.hostname, policy: this.d.policy, spent: this.d.spent, bootedAtS: this.bootedAt }), mode: 'offline' };
    } else {
      const def = this.d.noSnapshot();
      const why = target ? 'jmp-api is unreachable and this host has no policy snapshot' : 'this host is not enrolled with jmp-api';
      decision = { allow: def === 'allow', reason: `${why}; default ${def}`, mode: 'default' };
    }
    const detail = {
      op: req.op, user: req.user, runas: 'runas' in req ? req.runas : undefined, service: req.service, rhost: 'rhost' in req ? req.rhost : undefined,
      allow: decision.allow, reason: decision.reason, mode: decision.mode,
    };
    this.d.log.warn(detail, `degraded decision (${decision.mode})`);
    this.d.events.push('offline_decision', JSON.parse(JSON.stringify(detail)) as Record<string, unknown>);
    return decision;
  }
}
