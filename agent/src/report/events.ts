// Events for jmp-api (tamper, degraded, recovered, offline_decision): queued
// in memory, bounded (the oldest are dropped and counted), kept in a file so
// a restart does not lose them, and sent in batches when jmp-api answers.
// The file is a journal of JSON lines: new events are appended (once a
// second, fdatasync-ed), so an outage with thousands of offline decisions
// costs each second only what it added; the file is rewritten whole after a
// send, or when it holds far more lines than the queue.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '@jmp/runtime';
import { AgentEvent, type AgentEventType } from '../api/client.js';
import { writeFileAtomic } from '../persist/atomic.js';
import type { DiskHealth } from '../persist/disk.js';
import { realFs, writeAll, type FsLayer } from '../persist/fs.js';

const BATCH = 500; // jmp-api accepts at most 500 per request
const DroppedLine = z.object({ dropped: z.number().int().min(0) });

export class EventQueue {
  /** Each event kept as its JSON line: a long outage queues thousands, and a string is a third of the object's size. */
  private queue: { seq: number; json: string }[] = [];
  private seq = 0;
  private dropped = 0;
  private sending: Promise<boolean> | null = null;
  private persistTimer: NodeJS.Timeout | null = null;
  /** Lines pushed since the last append. */
  private pending = '';
  private journalLines = 0;
  /** The journal holds events already sent: rewrite it whole at the next persist. */
  private rewriteNeeded = false;

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

  /** Loads events a previous run could not send. Unreadable lines (a torn last line after a crash) are skipped. */
  load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return;
    }
    const events: AgentEvent[] = [];
    let bad = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      this.journalLines++;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        bad++;
        continue;
      }
      const d = DroppedLine.safeParse(json);
      if (d.success) {
        this.dropped += d.data.dropped;
        continue;
      }
      const e = AgentEvent.safeParse(json);
      if (e.success) events.push(e.data);
      else bad++;
    }
    for (const e of events.slice(-this.max)) this.queue.push({ seq: ++this.seq, json: JSON.stringify(e) });
    this.dropped += Math.max(0, events.length - this.max);
    if (bad > 0) this.log.warn({ path: this.path, lines: bad }, 'skipped unreadable lines in the event queue file');
  }

  push(type: AgentEventType, detail: Record<string, unknown>): void {
    const json = JSON.stringify({ type, at: this.now().toISOString(), detail } satisfies AgentEvent);
    this.queue.push({ seq: ++this.seq, json });
    this.pending += json + '\n';
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
      const events = batch.map((b) => JSON.parse(b.json) as AgentEvent);
      const dropped = this.dropped;
      if (dropped > 0 && events.length < BATCH) {
        events.push({
          type: 'degraded',
          at: this.now().toISOString(),
          detail: { reason: 'events_dropped', count: dropped },
        });
      }
      await send(events); // throws: keep everything for the next try
      const last = batch.at(-1)?.seq ?? 0;
      this.queue = this.queue.filter((b) => b.seq > last);
      if (dropped > 0 && events.length <= BATCH && events.at(-1)?.detail['reason'] === 'events_dropped')
        this.dropped -= dropped;
      this.rewriteNeeded = true;
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

  /** Writes what is new now (also at shutdown): an append, or a whole rewrite after a send. */
  persist(): void {
    if (this.persistTimer) {
      clearTimeout(this.persistTimer);
      this.persistTimer = null;
    }
    const chunk = this.pending;
    this.pending = '';
    if (this.rewriteNeeded || this.journalLines > 2 * this.max + BATCH) {
      this.rewriteNeeded = false;
      this.disk.attempt('events', () => this.rewrite());
    } else if (chunk) {
      // If the append fails, the store is marked dirty and rewritten whole once the disk takes writes again.
      this.disk.attempt(
        'events',
        () => this.append(chunk),
        () => this.rewrite(),
      );
    }
  }

  private append(chunk: string): void {
    const fd = this.fsl.openSync(this.path, 'a', 0o600);
    try {
      writeAll(this.fsl, fd, Buffer.from(chunk));
      // Synced on the thread pool, so a slow disk never holds up a PAM answer;
      // until then the page cache already outlives a crash of the agent.
      this.fsl.fdatasync(fd, (err) => {
        try {
          this.fsl.closeSync(fd);
        } catch {
          /* already closed */
        }
        if (err) {
          this.rewriteNeeded = true; // written whole at the next persist
          this.log.warn({ err: err.message, path: this.path }, 'event journal sync failed; it will be rewritten');
        }
      });
    } catch (err) {
      this.fsl.closeSync(fd);
      throw err;
    }
    let n = 0;
    for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) n++;
    this.journalLines += n;
  }

  private rewrite(): void {
    let out = this.dropped > 0 ? JSON.stringify({ dropped: this.dropped }) + '\n' : '';
    for (const b of this.queue) out += b.json + '\n';
    writeFileAtomic(this.path, out, 0o600, this.fsl);
    this.journalLines = this.queue.length + (this.dropped > 0 ? 1 : 0);
  }
}
