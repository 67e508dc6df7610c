// Events for jmp-api (tamper, degraded, recovered, offline_decision): queued
// in memory, bounded (the oldest are dropped and counted), kept in a file so
// a restart does not lose them, and sent in batches when jmp-api answers.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '@jmp/common';
import { AgentEvent, type AgentEventType } from '../api/client.js';
import { writeFileAtomic } from '../persist/atomic.js';
import type { DiskHealth } from '../persist/disk.js';
import { realFs, type FsLayer } from '../persist/fs.js';

const BATCH = 500; // jmp-api accepts at most 500 per request
const Persisted = z.object({ events: z.array(AgentEvent), dropped: z.number().int().min(0).default(0) });

export class EventQueue {
  private queue: { seq: number; event: AgentEvent }[] = [];
  private seq = 0;
  private dropped = 0;
  private sending: Promise<boolean> | null = null;
  private persistTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly max: number,
    private readonly disk: DiskHealth,
    private readonly log: Pick<Logger, 'warn' | 'info'>,
    private readonly fsl: FsLayer = realFs,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get size(): number {
    return this.queue.length;
  }

  get droppedCount(): number {
    return this.dropped;
  }

  /** Loads events a previous run could not send. A corrupt file is ignored. */
  load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return;
    }
    try {
      const p = Persisted.parse(JSON.parse(text));
      for (const e of p.events.slice(-this.max)) this.queue.push({ seq: ++this.seq, event: e });
      this.dropped += p.dropped + Math.max(0, p.events.length - this.max);
    } catch (err) {
      this.log.warn({ path: this.path, err: (err as Error).message }, 'ignoring an unreadable event queue file');
    }
  }

  push(type: AgentEventType, detail: Record<string, unknown>): void {
    this.queue.push({ seq: ++this.seq, event: { type, at: this.now().toISOString(), detail } });
    while (this.queue.length > this.max) {
      this.queue.shift();
      this.dropped++;
    }
    this.schedulePersist();
  }

  /** Sends everything queued; true when the queue was emptied. One flush at a time. */
  flush(send: (events: AgentEvent[]) => Promise<void>): Promise<boolean> {
    this.sending ??= this.doFlush(send).finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  private async doFlush(send: (events: AgentEvent[]) => Promise<void>): Promise<boolean> {
    while (this.queue.length > 0 || this.dropped > 0) {
      const batch = this.queue.slice(0, BATCH);
      const events = batch.map((b) => b.event);
      const dropped = this.dropped;
      if (dropped > 0 && events.length < BATCH) {
        events.push({ type: 'degraded', at: this.now().toISOString(), detail: { reason: 'events_dropped', count: dropped } });
      }
      await send(events); // throws: keep everything for the next try
      const last = batch.at(-1)?.seq ?? 0;
      this.queue = this.queue.filter((b) => b.seq > last);
      if (dropped > 0 && events.length <= BATCH && events.at(-1)?.detail['reason'] === 'events_dropped') this.dropped -= dropped;
      this.schedulePersist();
    }
    return true;
  }

  private schedulePersist(): void {
    if (this.persistTimer) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      this.persist();
    }, 1000);
    this.persistTimer.unref();
  }

  /** Writes the queue now (also at shutdown). */
  persist(): void {
    if (this.persistTimer) {
      clearTimeout(this.persistTimer);
      this.persistTimer = null;
    }
    this.disk.attempt('events', () => {
      writeFileAtomic(this.path, JSON.stringify({ events: this.queue.map((b) => b.event), dropped: this.dropped }) + '\n', 0o600, this.fsl);
    });
  }
}
