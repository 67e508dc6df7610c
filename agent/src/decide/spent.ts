// Ticket ids already used on this host, so a ticket works once even offline:
// an in-memory map (jti → keep-until) backed by an append-only file of
// "<keep-until> <jti>" lines, written (not fsync-ed) before an offline allow
// is given: the page cache survives a crash of the agent, and tickets from
// before a crash of the machine are refused by boot time (offline.ts).
// Entries are kept until the ticket could no longer verify (exp + 60 s);
// the file is compacted when most of it has expired. On a full disk the set
// lives on in memory and is rewritten whole when writes work again.
import { readFileSync } from 'node:fs';
import { writeFileAtomic, removeStaleTemps } from '../persist/atomic.js';
import type { DiskHealth } from '../persist/disk.js';
import { realFs, writeAll, type FsLayer } from '../persist/fs.js';

const KEEP_AFTER_EXP_S = 60;
const LINE_RE = /^(\d{1,12}) ([A-Za-z0-9._~-]{1,128})$/;

export class SpentJtiStore {
  private readonly spent = new Map<string, number>();
  private fileLines = 0;

  constructor(
    private readonly path: string,
    private readonly disk: DiskHealth,
    private readonly fsl: FsLayer = realFs,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  get size(): number {
    return this.spent.size;
  }

  load(): void {
    removeStaleTemps(this.path, this.fsl);
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return;
    }
    const now = this.nowS();
    for (const line of text.split('\n')) {
      if (!line) continue;
      this.fileLines++;
      const m = LINE_RE.exec(line);
      if (!m) continue; // a torn last line after a crash
      const until = Number(m[1]);
      if (until > now) this.spent.set(m[2]!, Math.max(until, this.spent.get(m[2]!) ?? 0));
    }
  }

  has(jti: string): boolean {
    const until = this.spent.get(jti);
    return until !== undefined && until > this.nowS();
  }

  /**
   * Records a jti (idempotent). Returns false if it was already spent. The
   * memory set is updated at once; the file append is synchronous (in the
   * page cache on return) unless the disk refused it, in which case memory
   * carries on.
   */
  add(jti: string, exp: number): boolean {
    if (this.has(jti)) return false;
    const until = exp + KEEP_AFTER_EXP_S;
    this.spent.set(jti, until);
    this.disk.attempt(
      'spent-jti',
      () => this.append(`${until} ${jti}\n`),
      () => this.rewrite(),
    );
    this.maybeCompact();
    return true;
  }

  private append(line: string): void {
    const fd = this.fsl.openSync(this.path, 'a', 0o600);
    try {
      writeAll(this.fsl, fd, Buffer.from(line));
    } finally {
      this.fsl.closeSync(fd);
    }
    this.fileLines++;
  }

  /** Drops expired entries from memory; compacts the file when mostly stale. */
  prune(): void {
    const now = this.nowS();
    for (const [jti, until] of this.spent) if (until <= now) this.spent.delete(jti);
    this.maybeCompact();
  }

  private maybeCompact(): void {
    if (this.fileLines > 2 * this.spent.size + 1024) this.disk.attempt('spent-jti', () => this.rewrite());
  }

  private rewrite(): void {
    const now = this.nowS();
    let out = '';
    let n = 0;
    for (const [jti, until] of this.spent) {
      if (until <= now) continue;
      out += `${until} ${jti}\n`;
      n++;
    }
    writeFileAtomic(this.path, out, 0o600, this.fsl);
    this.fileLines = n;
  }
}
