// One gzip member written in flushes. After every push() the output ends at a
// Z_SYNC_FLUSH boundary: a file cut right after any flush still inflates to
// everything pushed so far (read it with finishFlush: Z_SYNC_FLUSH), and the
// deflate window is kept across flushes, so small flushes of terminal text
// still compress well. Compression runs on the libuv thread pool, not on the
// event loop.
import zlib from 'node:zlib';

const SYNC_MARK = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export class SyncFlushGzip {
  private readonly gz: zlib.Gzip;
  private out: Buffer[] = [];
  private failure: Error | null = null;

  constructor(level = 6) {
    // Every write ends at a sync-flush point: one compression job per push, not a write and then a flush.
    this.gz = zlib.createGzip({ level, memLevel: 8, flush: zlib.constants.Z_SYNC_FLUSH });
    this.gz.on('data', (c: Buffer) => this.out.push(c));
    this.gz.on('error', (err) => {
      this.failure = err;
    });
  }

  /** Compresses `data` and returns every byte produced, ending at a sync-flush point. */
  async push(data: Buffer): Promise<Buffer> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve) => {
      if (data.length) this.gz.write(data, () => resolve());
      else this.gz.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve());
    });
    // The flush output is pushed before the flush callback runs; should a
    // Node version hand it over a tick later, wait for the sync-flush mark.
    for (let i = 0; i < 10 && !this.endsAtMark(); i++) await new Promise((r) => setImmediate(r));
    if (this.failure) throw this.failure;
    return this.take();
  }

  /** Ends the member (final block, CRC and length) and returns the last bytes. */
  async end(): Promise<Buffer> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => {
      this.gz.once('end', resolve);
      this.gz.once('error', reject);
      this.gz.end();
    });
    return this.take();
  }

  /** Frees zlib memory without finishing (the part is abandoned). */
  destroy(): void {
    this.gz.destroy();
  }

  private endsAtMark(): boolean {
    const last = this.out[this.out.length - 1];
    if (!last) return false;
    if (last.length >= 4) return last.subarray(last.length - 4).equals(SYNC_MARK);
    return Buffer.concat(this.out.slice(-4)).subarray(-4).equals(SYNC_MARK);
  }

  private take(): Buffer {
    const b = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    return b;
  }
}
