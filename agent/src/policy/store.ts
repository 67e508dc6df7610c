// The last good policy snapshot: in memory for decisions, on disk for the
// next start (policy.json, 0600) and for NSS (passwd, group, 0644), all
// written atomically. When the disk is full the snapshot lives on in memory.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '@jmp/runtime';
import { PolicySnapshot } from '@jmp/contract/schemas/agents';
import { compactKeyId } from '@jmp/contract/compact-ticket';
import { removeStaleTemps, writeFileAtomic } from '../persist/atomic.js';
import type { DiskHealth } from '../persist/disk.js';
import { realFs, type FsLayer } from '../persist/fs.js';
import { renderNss } from './render.js';
import { readLocalAccounts, type LocalAccounts } from '../local/accounts.js';

export type PolicyUser = PolicySnapshot['users'][number];

/** `version`: jmp-api's policy version the snapshot was built at (absent from older caches). */
export const CachedPolicy = z.object({
  etag: z.string(),
  version: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
  receivedAt: z.string(),
  snapshot: PolicySnapshot,
});
export type CachedPolicy = z.infer<typeof CachedPolicy>;

export interface PolicyPaths {
  policy: string;
  passwd: string;
  group: string;
}

export class PolicyStore {
  private cached: CachedPolicy | null = null;
  private users = new Map<string, PolicyUser>();
  private byUid = new Map<number, PolicyUser>();
  private keys = new Map<string, KeyObject>();
  private compactKeys = new Map<string, KeyObject>();
  lastCheckedAt: Date | null = null;

  constructor(
    private readonly paths: PolicyPaths,
    private readonly minId: number,
    private readonly disk: DiskHealth,
    private readonly log: Pick<Logger, 'warn' | 'info' | 'error'>,
    private readonly fsl: FsLayer = realFs,
    /** The host's own accounts: jmp entries that clash with them are not written. */
    private readonly localAccounts: () => LocalAccounts = () => readLocalAccounts(),
  ) {}

  get current(): CachedPolicy | null {
    return this.cached;
  }

  get etag(): string | undefined {
    return this.cached?.etag;
  }

  /** jmp-api's policy version this snapshot is known to be current at. */
  get version(): string | undefined {
    return this.cached?.version;
  }

  /** jmp-api said the snapshot is unchanged (304) at this version: kept in memory, no write. */
  confirm(version: string | undefined, at = new Date()): void {
    this.lastCheckedAt = at;
    if (this.cached && version && isVersion(version)) this.cached = { ...this.cached, version };
  }

  user(name: string): PolicyUser | undefined {
    return this.users.get(name);
  }

  userByUid(uid: number): PolicyUser | undefined {
    return this.byUid.get(uid);
  }

  ticketKey(kid: string): KeyObject | undefined {
    return this.keys.get(kid);
  }

  /** The ticket key a compact ticket's 4-byte key id (hex) names. */
  compactTicketKey(keyId: string): KeyObject | undefined {
    return this.compactKeys.get(keyId);
  }

  /** Loads policy.json from a previous run; rewrites the NSS files from it. A corrupt file is ignored. */
  load(): boolean {
    for (const p of [this.paths.policy, this.paths.passwd, this.paths.group]) removeStaleTemps(p, this.fsl);
    let text: string;
    try {
      text = readFileSync(this.paths.policy, 'utf8');
    } catch {
      return false;
    }
    const parsed = CachedPolicy.safeParse(safeJson(text));
    if (!parsed.success) {
      this.log.warn({ path: this.paths.policy }, 'ignoring an unreadable policy cache; waiting for jmp-api');
      return false;
    }
    this.use(parsed.data);
    this.persist();
    return true;
  }

  /** A new snapshot from jmp-api: used at once, then written. */
  accept(snapshot: PolicySnapshot, etag: string, receivedAt = new Date(), version?: string): void {
    this.use({
      etag,
      ...(version && isVersion(version) ? { version } : {}),
      receivedAt: receivedAt.toISOString(),
      snapshot,
    });
    this.lastCheckedAt = receivedAt;
    this.persist();
  }

  private use(c: CachedPolicy): void {
    const keys = new Map<string, KeyObject>();
    for (const k of c.snapshot.ticketKeys) {
      try {
        keys.set(k.kid, createPublicKey(k.publicKeyPem));
      } catch {
        this.log.warn({ kid: k.kid }, 'ignoring a ticket key that is not a public key');
      }
    }
    this.cached = c;
    this.keys = keys;
    this.compactKeys = new Map([...keys].map(([kid, k]) => [compactKeyId(kid), k]));
    this.users = new Map(c.snapshot.users.map((u) => [u.username, u]));
    this.byUid = new Map(c.snapshot.users.map((u) => [u.uid, u]));
  }

  /** Writes the NSS files, then policy.json. Returns false when the disk refused (the snapshot stays in memory). */
  persist(): boolean {
    return this.disk.attempt('policy', () => this.write());
  }

  private write(): void {
    const c = this.cached;
    if (!c) return;
    const nss = renderNss(c.snapshot, { minId: this.minId, local: this.localAccounts() });
    for (const s of nss.skipped) this.log.warn(`NSS files: skipping ${s}`);
    writeFileAtomic(this.paths.passwd, nss.passwd, 0o644, this.fsl);
    writeFileAtomic(this.paths.group, nss.group, 0o644, this.fsl);
    writeFileAtomic(this.paths.policy, JSON.stringify(c) + '\n', 0o600, this.fsl);
  }
}

function isVersion(v: string): boolean {
  return /^\d{1,19}$/.test(v);
}

/** a > b for two policy versions (decimal, up to 19 digits); an absent b is older than any version. */
export function newerVersion(a: string, b: string | undefined): boolean {
  if (!isVersion(a)) return false;
  if (b === undefined || !isVersion(b)) return true;
  return BigInt(a) > BigInt(b);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
