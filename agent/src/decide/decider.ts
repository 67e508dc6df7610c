// Every PAM question: jmp-api first, within the decision deadline; when it
// does not answer properly, the cached snapshot (mode offline); with no
// snapshot, the default (mode default). Degraded decisions are logged and
// queued for jmp-api as offline_decision events.
//
// While jmp-api is down, one question at a time, at most every
// RETRY_ONLINE_MS, tries it again; the others are decided offline at once.
// A jmp-api that hangs then costs one deadline per second, not one per login.
//
// "Down" is only no answer or jmp-api's own outage marker (isApiDown): a 500
// or any other error answers one request and is a denial, so no request can
// push the agent onto its older view of the rights. What jmp-api denied online
// stays denied offline until a newer snapshot arrives, and an answer naming a
// newer policy version starts a pull at once.
import { ApiError } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { AgentMode } from '../protocol/line.js';
import { isApiDown, type AgentApi, type PamAnswer } from '../api/client.js';
import type { ApiHealth } from '../api/health.js';
import { newerVersion, type PolicyStore } from '../policy/store.js';
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
  /** jmp-api holds a newer policy than the snapshot (a version in its answer, or it denied what the snapshot grants): pull now. */
  onStalePolicy?: () => void;
}

/** How many online denials are remembered for offline decisions (the oldest go first). */
export const MAX_REMEMBERED_DENIALS = 4096;
/** The same stale version starts a pull at most this often. */
const STALE_PULL_EVERY_MS = 5000;
/**
 * A snapshot that still grants a right jmp-api denied may come from a pull
 * that was under way at the denial; only one received this long after it is
 * trusted over the denial (one that no longer grants the right, at once).
 */
export const DENIAL_OUTLIVES_PULL_MS = 60_000;

type RightName = 'login' | 'root';

/** The right a question needs, as jmp-api judges it (services/api/src/pam/routes.ts rightFor). */
export function rightOf(req: PamRequest): RightName | null {
  switch (req.op) {
    case 'auth':
    case 'account':
      return 'login';
    case 'sudo':
      return 'root';
    case 'su':
      return req.runas === req.user ? 'login' : 'root';
    default:
      return null;
  }
}

/** While jmp-api is down, how often a question tries it again. */
export const RETRY_ONLINE_MS = 1000;

export class Decider {
  private readonly bootedAt = bootedAtS();
  private probing = false;
  /** When a question last went to jmp-api. */
  private lastAskedAt = -Infinity;
  /** `${right}:${user}` → when jmp-api denied it online (epoch ms). */
  private readonly deniedOnline = new Map<string, number>();
  private lastStale: { version: string; at: number } | null = null;
  constructor(
    private readonly d: DeciderDeps,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  async decide(req: PamRequest): Promise<Decision> {
    const target = this.d.target();
    let decision: Decision | null = this.spentHere(req);
    if (!decision && target && this.mayAskOnline()) {
      const probe = this.d.health.state === 'down';
      this.lastAskedAt = this.nowMs();
      if (probe) this.probing = true;
      try {
        decision = await this.online(req, target.api);
      } finally {
        if (probe) this.probing = false;
      }
    }
    if (!decision) decision = this.degraded(req, target);
    this.d.onDecision?.(req, decision);
    return decision;
  }

  private mayAskOnline(): boolean {
    if (this.d.health.state !== 'down') return true;
    return !this.probing && this.nowMs() - this.lastAskedAt >= RETRY_ONLINE_MS;
  }

  /** A ticket this host already spent (online or offline) is refused before anyone is asked. */
  private spentHere(req: PamRequest): Decision | null {
    if (req.op !== 'auth') return null;
    const t = peekTicketJti(req.ticket);
    if (!t || !this.d.spent.has(t.jti)) return null;
    const offline = this.d.health.state === 'down';
    const d: Decision = {
      allow: false,
      reason: `ticket has already been used${offline ? ' (offline)' : ''}`,
      mode: offline ? 'offline' : 'online',
    };
    if (offline) this.report(req, d);
    return d;
  }

  private async online(req: PamRequest, api: AgentApi): Promise<Decision | null> {
    let r: PamAnswer;
    try {
      r = await api.pamDecide({
        op: req.op,
        user: req.user,
        ...('runas' in req && req.runas ? { runas: req.runas } : {}),
        ...(req.service !== undefined ? { service: req.service } : {}),
        ...('rhost' in req && req.rhost !== undefined ? { rhost: req.rhost } : {}),
        ...(req.tty !== undefined ? { tty: req.tty } : {}),
        ...(req.op === 'auth' ? { ticket: req.ticket } : {}),
      });
    } catch (err) {
      const msg = (err as Error).message;
      if (isApiDown(err)) {
        this.d.health.down(msg);
        return null;
      }
      // jmp-api answered (400, 401, 403, 429, 500, garbage…): it refused this question, it is not down.
      this.d.health.ok();
      this.rememberTicket(req);
      this.d.log.warn({ op: req.op, user: req.user, err: msg }, 'jmp-api refused the question');
      const status = err instanceof ApiError ? err.httpStatus : 0;
      return {
        allow: false,
        reason: status >= 400 && status < 500 && status !== 429 ? msg : `jmp-api could not decide: ${msg}`,
        mode: 'online',
      };
    }
    this.d.health.ok();
    this.rememberTicket(req);
    this.learn(req, r.allow, r.policy);
    return { allow: r.allow, reason: r.reason, mode: 'online' };
  }

  /**
   * An online answer about a right: a denial is remembered for offline
   * decisions (until a newer snapshot), an allow forgets it. A denial the
   * snapshot would grant, or a policy version other than the snapshot's,
   * means the snapshot is stale: pull now.
   */
  private learn(req: PamRequest, allow: boolean, version: string | undefined): void {
    // auth is also denied for ticket reasons; the other ops are the right alone.
    const right = req.op === 'auth' ? null : rightOf(req);
    let stale = version !== undefined && newerVersion(version, this.d.policy.version) ? version : null;
    if (right) {
      const key = `${right}:${req.user}`;
      this.deniedOnline.delete(key);
      if (!allow) {
        this.deniedOnline.set(key, Date.now());
        while (this.deniedOnline.size > MAX_REMEMBERED_DENIALS)
          this.deniedOnline.delete(this.deniedOnline.keys().next().value!);
        if (this.d.policy.user(req.user)?.[right]) stale ??= `denied ${key}`;
      }
    }
    if (!stale) return;
    const now = this.nowMs();
    if (this.lastStale && this.lastStale.version === stale && now - this.lastStale.at < STALE_PULL_EVERY_MS) return;
    this.lastStale = { version: stale, at: now };
    this.d.onStalePolicy?.();
  }

  /** A denial jmp-api gave after the snapshot was received stands offline. */
  private deniedSinceSnapshot(req: PamRequest): string | null {
    const right = rightOf(req);
    if (!right) return null;
    const at = this.deniedOnline.get(`${right}:${req.user}`);
    if (at === undefined) return null;
    const received = Date.parse(this.d.policy.current?.receivedAt ?? '');
    const grants = this.d.policy.user(req.user)?.[right] === true;
    if (Number.isFinite(received) && received > at && (!grants || received - at > DENIAL_OUTLIVES_PULL_MS)) {
      this.deniedOnline.delete(`${right}:${req.user}`);
      return null;
    }
    return `jmp-api denied the ${right} right to ${req.user} at ${new Date(at).toISOString()}, after this snapshot was taken (offline)`;
  }

  /** A ticket jmp-api has seen is spent there; remember it so it cannot be replayed offline. */
  private rememberTicket(req: PamRequest): void {
    if (req.op !== 'auth') return;
    const t = peekTicketJti(req.ticket);
    if (t) this.d.spent.add(t.jti, t.exp);
  }

  private degraded(req: PamRequest, target: { hostId: number; hostname: string } | null): Decision {
    let decision: Decision;
    let spentJti: { jti: string; exp: number } | null = null;
    if (target && this.d.policy.current) {
      const denied = this.deniedSinceSnapshot(req);
      if (denied) decision = { allow: false, reason: denied, mode: 'offline' };
      else {
        decision = {
          ...decideOffline(req, {
            hostId: target.hostId,
            hostname: target.hostname,
            policy: this.d.policy,
            spent: this.d.spent,
            bootedAtS: this.bootedAt,
          }),
          mode: 'offline',
        };
        // A ticket spent here offline is reported to jmp-api (with the event), which marks it spent for every path.
        const t = req.op === 'auth' ? peekTicketJti(req.ticket) : null;
        if (t && this.d.spent.has(t.jti)) spentJti = t;
      }
    } else {
      const def = this.d.noSnapshot();
      const why = target
        ? 'jmp-api is unreachable and this host has no policy snapshot'
        : 'this host is not enrolled with jmp-api';
      decision = { allow: def === 'allow', reason: `${why}; default ${def}`, mode: 'default' };
    }
    this.report(req, decision, spentJti);
    return decision;
  }

  /** A decision jmp-api did not take: logged and queued for it as an offline_decision event. */
  private report(req: PamRequest, decision: Decision, spentJti: { jti: string; exp: number } | null = null): void {
    const detail = {
      op: req.op,
      user: req.user,
      runas: 'runas' in req ? req.runas : undefined,
      service: req.service,
      rhost: 'rhost' in req ? req.rhost : undefined,
      allow: decision.allow,
      reason: decision.reason,
      mode: decision.mode,
      ...(spentJti ? { jti: spentJti.jti, exp: spentJti.exp } : {}),
    };
    this.d.log.warn(detail, `degraded decision (${decision.mode})`);
    this.d.events.push('offline_decision', JSON.parse(JSON.stringify(detail)) as Record<string, unknown>);
  }
}
