// Host agent tokens: `Authorization: JMP-Host <jwt>`, ES256 signed by the
// host's own key (registered at enrolment), exp ≤ 60 s. Every agent polls
// about every 30 s, so what a check needs is remembered:
// - each host's parsed key. It is used without a check for KEY_TRUST_MS after
//   it was read or confirmed; after that it is confirmed by the policy
//   version, which every write to a host's key, name, state or service and
//   every deletion bumps (migrations 001 and 011) and which a poll reads
//   anyway: a routine poll does not look the key up.
// - each verified token, until it expires, as long as the key it was
//   verified with is still the host's confirmed key. An agent reuses its
//   token for 30 s (agent/src/api/host-token.ts), so many polls skip ECDSA.
import jwt from 'jsonwebtoken';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Db } from '../db/knex.js';

export interface HostPrincipal {
  kind: 'host';
  hostId: number;
  hostname: string;
}

/** Reads the policy version; called at most once per check, after the request arrived. */
export type VersionRead = () => Promise<string>;

const HOST_AUD = 'jmp-api';
/** How long a key read from the database is used without asking whether anything changed. */
export const KEY_TRUST_MS = 10_000;
const MAX_HOSTS = 200_000;
const MAX_TOKENS = 200_000;

interface KeyEntry {
  key: KeyObject | null;
  pem: string | null;
  hostname: string;
  /** The policy version read before the row. */
  version: string;
  confirmedAt: number;
}

interface TokenEntry {
  principal: HostPrincipal;
  expiresAtMs: number;
  key: KeyEntry;
}

// Weak: an app that is gone (tests start many) takes its caches with it.
const live = new Set<WeakRef<HostTokens>>();

/** Forgets a host's key and tokens in every instance of this process (enrolment, reset, rename). */
export function forgetHost(hostId: number): void {
  for (const ref of live) {
    const h = ref.deref();
    if (h) h.forget(hostId);
    else live.delete(ref);
  }
}

export class HostTokens {
  private readonly keys = new Map<number, KeyEntry>();
  private readonly tokens = new Map<string, TokenEntry>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    live.add(new WeakRef(this));
  }

  forget(hostId: number): void {
    this.keys.delete(hostId);
    for (const [t, v] of this.tokens) if (v.principal.hostId === hostId) this.tokens.delete(t);
  }

  /** The host whose key signed the token, or null. */
  async verify(token: string, version: VersionRead): Promise<HostPrincipal | null> {
    const known = this.tokens.get(token);
    if (known) {
      if (known.expiresAtMs > this.now() && (await this.currentKey(known.principal.hostId, version)) === known.key)
        return known.principal;
      this.tokens.delete(token);
    }
    const decoded = jwt.decode(token, { complete: true });
    const hostId = Number((decoded?.payload as { sub?: string } | null)?.sub?.replace(/^host:/, ''));
    if (!decoded || !Number.isInteger(hostId) || hostId <= 0) return null;
    const entry = await this.currentKey(hostId, version);
    if (!entry.key) return null;
    let p: jwt.JwtPayload;
    try {
      p = jwt.verify(token, entry.key, { algorithms: ['ES256'], audience: HOST_AUD, maxAge: '60s' }) as jwt.JwtPayload;
    } catch {
      return null;
    }
    if (!p.exp || !p.iat || p.exp - p.iat > 60) return null; // exp ≤ 60 s (DESIGN)
    const principal: HostPrincipal = { kind: 'host', hostId, hostname: entry.hostname };
    this.remember(token, { principal, expiresAtMs: p.exp * 1000, key: entry });
    return principal;
  }

  private async currentKey(hostId: number, version: VersionRead): Promise<KeyEntry> {
    const asked = this.now();
    const e = this.keys.get(hostId);
    if (e && asked - e.confirmedAt <= KEY_TRUST_MS) return e;
    // The read is sent after `asked`: an unchanged version means nothing changed up to then.
    const v = await version();
    const cur = this.keys.get(hostId);
    if (cur && cur.version === v) {
      cur.confirmedAt = Math.max(cur.confirmedAt, asked);
      return cur;
    }
    // The row is read after the version: a write landing in between bumps the version again.
    const row = await this.db('hosts').where({ id: hostId }).first('hostname', 'agent_public_key');
    const pem: string | null = row?.agent_public_key ?? null;
    const hostname: string = row?.hostname ?? '';
    // Most version changes are about someone else: the same key and name stay, and so do their verified tokens.
    const same = this.keys.get(hostId);
    if (same && same.pem === pem && same.hostname === hostname) {
      same.version = v;
      same.confirmedAt = Math.max(same.confirmedAt, asked);
      return same;
    }
    const entry: KeyEntry = { key: pem ? createPublicKey(pem) : null, pem, hostname, version: v, confirmedAt: asked };
    if (this.keys.size >= MAX_HOSTS && !this.keys.has(hostId)) this.keys.clear();
    this.keys.set(hostId, entry);
    return entry;
  }

  private remember(token: string, entry: TokenEntry): void {
    if (this.tokens.size >= MAX_TOKENS) {
      const t = this.now();
      for (const [k, v] of this.tokens) if (v.expiresAtMs <= t) this.tokens.delete(k);
      if (this.tokens.size >= MAX_TOKENS) this.tokens.clear();
    }
    this.tokens.set(token, entry);
  }
}
