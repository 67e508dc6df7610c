// The file-operation audit trail: each operation is one event, sent to
// jmp-api in batches. Nothing is lost when jmp-api is briefly down: a batch
// it does not take is written to the spool directory and sent again later
// (jmp-api stores an operation id once). A transfer in progress has a small
// file in the spool too, removed when it ends, so after a crash the next start
// reports it as `incomplete`, never as complete.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '@jmp/contract';
import type { FileOperation } from '@jmp/contract/schemas/files';
import type { SessionEnd } from '@jmp/contract/schemas/sessions';
import type { Logger } from '@jmp/runtime';

export interface FileAuditOptions {
  api: ApiClient;
  log: Logger;
  /** Spooled batches and the markers of transfers in progress (one directory per instance, kept across restarts). */
  spoolDir: string;
  /** How often queued events are sent (default 1 s). */
  flushMs?: number;
}

/** A spooled item: a batch of operations, or a session end. */
type Spooled = { kind: 'ops'; operations: FileOperation[] } | { kind: 'end'; id: string; end: SessionEnd };

const BATCH_MAX = 500;

/** An operation in progress (an open file handle): its marker stays in the spool until `end`. */
export interface OpenOperation {
  readonly op: FileOperation;
  end(result: FileOperation['result'], extra?: Partial<FileOperation>): void;
}

export class FileAudit {
  private queue: FileOperation[] = [];
  private ends: Array<{ id: string; end: SessionEnd }> = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private readonly openDir: string;
  private readonly batchDir: string;

  constructor(private readonly opts: FileAuditOptions) {
    this.openDir = join(opts.spoolDir, 'open');
    this.batchDir = join(opts.spoolDir, 'batches');
    mkdirSync(this.openDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.batchDir, { recursive: true, mode: 0o700 });
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.timer.unref();
  }

  /** A finished operation (one without a handle: mkdir, remove, a refusal …). */
  record(op: Omit<FileOperation, 'id' | 'at'> & { at?: string }): void {
    this.queue.push({ id: randomUUID(), at: new Date().toISOString(), ...op });
  }

  /** Starts an operation that spans requests (a transfer); a crash before `end` leaves it `incomplete`. */
  begin(op: Omit<FileOperation, 'id' | 'at' | 'result' | 'durationMs'>): OpenOperation {
    const started = Date.now();
    const full: FileOperation = {
      ...op,
      id: randomUUID(),
      at: new Date(started).toISOString(),
      result: 'incomplete',
      durationMs: 0,
    };
    // The pid names the owner: a restart recovers the markers of processes that are gone, never a live one's.
    const marker = join(this.openDir, `${process.pid}-${full.id}.json`);
    try {
      writeFileSync(marker, JSON.stringify(full), { mode: 0o600 });
    } catch (err) {
      this.opts.log.error({ err, marker }, 'file audit: cannot write the marker of a transfer in progress');
    }
    let ended = false;
    return {
      op: full,
      end: (result, extra = {}) => {
        if (ended) return;
        ended = true;
        this.queue.push({ ...full, ...extra, result, durationMs: Date.now() - started });
        rmSync(marker, { force: true });
      },
    };
  }

  /** A target session ended: reported like the operations, spooled when jmp-api does not take it. */
  sessionEnded(id: string, end: SessionEnd): void {
    this.ends.push({ id, end });
    void this.flush();
  }

  /** After a restart: transfers that were open become `incomplete`; spooled batches are sent again. */
  recover(): void {
    for (const name of readdirSync(this.openDir).filter((n) => n.endsWith('.json'))) {
      const owner = Number(name.split('-')[0]);
      if (owner === process.pid || alive(owner)) continue;
      const p = join(this.openDir, name);
      try {
        const op = JSON.parse(readFileSync(p, 'utf8')) as FileOperation;
        this.queue.push({
          ...op,
          result: 'incomplete',
          message: 'jmp-sftp stopped before the transfer ended',
          durationMs: Math.max(0, Date.now() - Date.parse(op.at)),
        });
      } catch (err) {
        this.opts.log.warn({ err, file: p }, 'file audit: unreadable marker dropped');
      }
      rmSync(p, { force: true });
    }
    void this.flush();
  }

  /** Sends what is queued, then one spooled batch per call; never throws. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Stops the timer and sends (or spools) what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.flush();
  }

  /** Operations waiting to be sent (queued in memory); for tests and metrics. */
  get pending(): number {
    return this.queue.length + this.ends.length + readdirSync(this.batchDir).length;
  }

  private async doFlush(): Promise<void> {
    while (this.queue.length) {
      const operations = this.queue.splice(0, BATCH_MAX);
      if (!(await this.send({ kind: 'ops', operations }))) this.spool({ kind: 'ops', operations });
    }
    for (const e of this.ends.splice(0))
      if (!(await this.send({ kind: 'end', ...e }))) this.spool({ kind: 'end', ...e });
    const spooled = readdirSync(this.batchDir)
      .filter((n) => n.endsWith('.json'))
      .sort();
    for (const name of spooled) {
      const p = join(this.batchDir, name);
      let item: Spooled;
      try {
        item = JSON.parse(readFileSync(p, 'utf8')) as Spooled;
      } catch (err) {
        this.opts.log.error({ err, file: p }, 'file audit: unreadable spooled batch moved aside');
        renameSync(p, `${p}.bad`);
        continue;
      }
      if (!(await this.send(item))) return; // still down: try again at the next tick
      rmSync(p, { force: true });
    }
  }

  private async send(item: Spooled): Promise<boolean> {
    try {
      if (item.kind === 'ops')
        await this.opts.api.request('POST', '/v1/file-operations', null, { operations: item.operations });
      else await this.opts.api.sessionEnded(item.id, item.end);
      return true;
    } catch (err) {
      // A 4xx other than a missing session is final: keeping it would block the spool forever.
      const status = (err as { httpStatus?: number }).httpStatus ?? 0;
      if (status >= 400 && status < 500) {
        this.opts.log.error({ err, kind: item.kind }, 'file audit: jmp-api refused an audit item; dropped');
        return true;
      }
      this.opts.log.warn({ err: (err as Error).message, kind: item.kind }, 'file audit: jmp-api unavailable; spooled');
      return false;
    }
  }

  private spool(item: Spooled): void {
    const name = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}.json`;
    const tmp = join(this.batchDir, `.${name}.tmp`);
    writeFileSync(tmp, JSON.stringify(item), { mode: 0o600 });
    renameSync(tmp, join(this.batchDir, name));
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
