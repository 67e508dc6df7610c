// Audit events in a hash chain: each row's hash covers the previous hash and
// its own content, so editing or deleting a row breaks every later link.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

export interface AuditEvent {
  actor: string;
  action: string;
  target?: string;
  data?: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);
const CHAIN_LOCK = 0x6a6d7001; // pg advisory lock id: serialises appends across jmp-api instances

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

export function eventHash(prev: string, at: string, e: Required<AuditEvent>): string {
  return createHash('sha256')
    .update(`${prev}\n${at}\n${canonical({ actor: e.actor, action: e.action, target: e.target, data: e.data })}`)
    .digest('hex');
}

/**
 * Appends an event to the chain. Inside a caller's transaction it joins that
 * transaction. Otherwise concurrent appends are group-committed: whoever
 * arrives while a batch is being written goes into the next batch, so the
 * chain lock is taken once per batch, not once per event, and every caller
 * still returns only after its row is committed.
 */
export async function appendAudit(db: Knex, event: AuditEvent): Promise<void> {
  if (db.isTransaction) return insertChained(db as Knex.Transaction, [event]);
  let q = queues.get(db);
  if (!q) queues.set(db, (q = { items: [], flushing: false }));
  const queue = q;
  return new Promise<void>((resolve, reject) => {
    queue.items.push({ event, resolve, reject });
    if (!queue.flushing) void flush(db, queue);
  });
}

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (e: unknown) => void;
}
const queues = new WeakMap<Knex, { items: Pending[]; flushing: boolean }>();
const BATCH = 500;

async function flush(db: Knex, q: { items: Pending[]; flushing: boolean }): Promise<void> {
  q.flushing = true;
  while (q.items.length) {
    const batch = q.items.splice(0, BATCH);
    try {
      await db.transaction((trx) =>
        insertChained(
          trx,
          batch.map((b) => b.event),
        ),
      );
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
  q.flushing = false;
}

async function insertChained(trx: Knex.Transaction, events: AuditEvent[]): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(?)', [CHAIN_LOCK]);
  const last = await trx('audit_events').select('hash').orderBy('id', 'desc').first();
  let prev: string = last?.hash ?? GENESIS;
  const rows = events.map((event) => {
    const e = { target: '', data: {}, ...event };
    const at = new Date().toISOString();
    const hash = eventHash(prev, at, e);
    const row = {
      at,
      actor: e.actor,
      action: e.action,
      target: e.target,
      data: JSON.stringify(e.data),
      prev_hash: prev,
      hash,
    };
    prev = hash;
    return row;
  });
  await trx('audit_events').insert(rows);
}

/** Walks the chain; returns the id of the first broken row, or null when intact. */
export async function verifyAuditChain(db: Knex): Promise<{ ok: boolean; brokenAt: number | null; checked: number }> {
  let prev = GENESIS,
    checked = 0,
    lastId = 0;
  for (;;) {
    const rows = await db('audit_events').where('id', '>', lastId).orderBy('id').limit(5000);
    if (rows.length === 0) return { ok: true, brokenAt: null, checked };
    for (const r of rows) {
      const at = new Date(r.at).toISOString();
      if (
        r.prev_hash !== prev ||
        eventHash(prev, at, { actor: r.actor, action: r.action, target: r.target, data: r.data }) !== r.hash
      ) {
        return { ok: false, brokenAt: Number(r.id), checked };
      }
      prev = r.hash;
      lastId = Number(r.id);
      checked++;
    }
  }
}
