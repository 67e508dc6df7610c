// Decision facts cached per (user, host), valid only while the database's
// policy version is unchanged. The version is bumped by triggers in the same
// transaction as any access-relevant write, so a committed revocation is seen
// by the very next decision on every jmp-api instance. One trivial query per
// decision instead of the full facts query.
import type { Db } from '../db/knex.js';
import { preparedQuery } from '../db/prepared.js';
import { loadFacts, type Facts } from './facts.js';

const MAX_ENTRIES = 100_000;

class FactsCache {
  private version = '';
  private readonly entries = new Map<string, Facts>();
  private inflight: Promise<string> | null = null;
  private queued: Promise<string> | null = null;

  /**
   * The current policy version, read by a query that starts after the caller
   * arrived (so it sees every write committed before). Callers arriving while
   * a read is in flight share the next one instead of each sending their own.
   */
  private readVersion(db: Db): Promise<string> {
    if (this.queued) return this.queued;
    const send = async () => {
      this.queued = null;
      const [row] = await preparedQuery<{ v: string }>(
        db,
        'jmp_policy_version',
        'SELECT v::text AS v FROM policy_version WHERE id = 1',
        [],
      );
      return row?.v ?? '';
    };
    const next = (this.inflight ?? Promise.resolve('')).then(send, send);
    if (this.inflight) this.queued = next;
    this.inflight = next;
    void next
      .finally(() => {
        if (this.inflight === next) this.inflight = null;
      })
      .catch(() => {});
    return next;
  }

  /** The database's policy version now (shared with the facts reads in flight). */
  currentVersion(db: Db): Promise<string> {
    return this.readVersion(db);
  }

  async get(db: Db, username: string, host: number | string): Promise<Facts> {
    const v = await this.readVersion(db);
    if (v !== this.version) {
      this.entries.clear();
      this.version = v;
    }
    const key = `${typeof host}:${host}:${username}`;
    const hit = this.entries.get(key);
    if (hit) return hit;
    // Read after the version: if a write lands in between, the version moved on
    // and this entry is dropped at the next check.
    const facts = await loadFacts(db, username, host);
    if (this.version === v) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(key, facts);
    }
    return facts;
  }
}

const caches = new WeakMap<Db, FactsCache>();

function cacheOf(db: Db): FactsCache {
  let c = caches.get(db);
  if (!c) caches.set(db, (c = new FactsCache()));
  return c;
}

export function cachedFacts(db: Db, username: string, host: number | string): Promise<Facts> {
  return cacheOf(db).get(db, username, host);
}

/**
 * The global policy version (bumped by triggers on every access-relevant
 * write): one trivial query, shared by concurrent callers. Agents compare it
 * with the version their snapshot was built at (JMP-Policy-Version).
 */
export function policyVersion(db: Db): Promise<string> {
  return cacheOf(db).currentVersion(db);
}

const perRequest = new WeakMap<object, Promise<string>>();

/**
 * One policy version read per request: the first to ask (the host token
 * check or the route) sends it, after the request arrived; later askers in
 * the same request share it, so a poll costs one read, not two.
 */
export function requestPolicyVersion(db: Db, req: object): Promise<string> {
  let read = perRequest.get(req);
  if (!read) perRequest.set(req, (read = policyVersion(db)));
  return read;
}
