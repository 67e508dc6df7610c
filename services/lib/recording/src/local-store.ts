// Recordings on local disk (the default store). Directories are created 0700,
// part files 0600 with O_APPEND|O_EXCL; every append is written and made
// durable (O_DSYNC: each write returns once its data is on disk, as write +
// fdatasync would, in one system call) before it resolves, so what the
// recorder flushed survives a crash of the machine, not only of the process.
import { constants } from 'node:fs';
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PartSink, RecordingStore, StoreErrorReporter } from './store.js';

export interface LocalStoreOptions {
  dir: string;
  /** fdatasync after every append (default true). Off only for tests or throwaway hosts. */
  fsync?: boolean;
}

export class LocalStore implements RecordingStore {
  readonly kind = 'file' as const;
  readonly dir: string;
  private readonly fsync: boolean;

  constructor(opts: LocalStoreOptions) {
    this.dir = resolve(opts.dir);
    this.fsync = opts.fsync ?? true;
  }

  sessionUri(sessionKey: string): string {
    return pathToFileURL(join(this.dir, sessionKey)).href;
  }

  async openPart(partKey: string, _report: StoreErrorReporter): Promise<PartSink> {
    return AppendFile.create(join(this.dir, partKey), this.fsync);
  }
}

/** A new file written by appends only; the unit both stores use for durability. */
export class AppendFile implements PartSink {
  private queue: Buffer[] = [];
  private queued = 0;
  private written = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(path: string, fsync: boolean): Promise<AppendFile> {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { O_APPEND, O_CREAT, O_EXCL, O_RDWR, O_DSYNC } = constants;
    const fh = await open(path, O_APPEND | O_CREAT | O_EXCL | O_RDWR | (fsync ? O_DSYNC : 0), 0o600);
    if (fsync) await syncDir(dir);
    return new AppendFile(path, fh);
  }

  get queuedBytes(): number {
    return this.queued;
  }
  /** Bytes in the file (written, fsynced when fsync is on). */
  get writtenBytes(): number {
    return this.written;
  }

  /**
   * Bytes [start, end) of everything appended so far, durable or still queued
   * (the S3 store uploads from its spool with this).
   */
  async read(start: number, end: number): Promise<Buffer> {
    const out = Buffer.alloc(Math.max(0, end - start));
    const fromFile = Math.max(0, Math.min(end, this.written) - start);
    let got = 0;
    while (got < fromFile) {
      const { bytesRead } = await this.fh.read(out, got, fromFile - got, start + got);
      if (bytesRead === 0) throw new Error(`${this.path} is shorter than expected`);
      got += bytesRead;
    }
    let pos = this.written;
    for (const b of this.queue) {
      const a = Math.max(start, pos),
        z = Math.min(end, pos + b.length);
      if (z > a) b.copy(out, a - start, a - pos, z - pos);
      pos += b.length;
    }
    return out;
  }

  /** Closes and deletes the file (the S3 store, once the part is in S3). */
  async remove(): Promise<void> {
    await this.abandon();
    await unlink(this.path);
  }

  append(chunk: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`recording part ${this.path} is closed`));
    if (chunk.length) {
      this.queue.push(chunk);
      this.queued += chunk.length;
    }
    return this.serial(() => this.drain());
  }

  complete(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      await this.drain();
      this.closed = true;
      await this.fh.close();
    });
  }

  abandon(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      this.queue = [];
      this.queued = 0;
      await this.fh.close().catch(() => {});
    });
  }

  private serial(f: () => Promise<void>): Promise<void> {
    const p = this.chain.then(f);
    this.chain = p.catch(() => {});
    return p;
  }

  private async drain(): Promise<void> {
    if (!this.queue.length) return;
    while (this.queue.length) {
      // One writev for everything queued; a short write leaves the rest queued.
      const { bytesWritten } = await this.fh.writev(this.queue);
      this.written += bytesWritten;
      this.queued -= bytesWritten;
      let n = bytesWritten;
      while (n > 0 && this.queue.length) {
        const head = this.queue[0]!;
        if (head.length <= n) {
          n -= head.length;
          this.queue.shift();
        } else {
          this.queue[0] = head.subarray(n);
          n = 0;
        }
      }
      if (bytesWritten === 0 && this.queue.length) throw new Error(`no progress writing ${this.path}`);
    }
  }
}

/** Makes a new directory entry durable (best effort: not every filesystem allows it). */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* e.g. EINVAL on some filesystems; the file data itself is still fsynced */
  }
}
