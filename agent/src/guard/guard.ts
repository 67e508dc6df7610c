// Keeps the PAM, NSS and sudoers wiring as installed. Every interval each
// guarded file is compared with its baseline; a difference is reverted in
// place — the same inode, because bind-mounted files are pinned to theirs
// (LAB-NOTES) and because a running process may hold it open — and reported.
// A file guarded by `lines` keeps everything else as it is now and only gets
// its matching lines back.
import { chmodSync, closeSync, constants, fsyncSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import type { Logger } from '@jmp/runtime';
import type { GuardedFile } from '../config.js';
import { realFs, writeAll } from '../persist/fs.js';
import { loadBaseline, readImage, type FileImage } from './baseline.js';
import { lineDelta, type ChangeSummary } from './diff.js';

export interface TamperReport extends ChangeSummary {
  file: string;
  restored: boolean;
  error?: string;
}

interface Entry {
  spec: GuardedFile;
  re: RegExp | null;
  want: FileImage & { content: Buffer };
}

export interface FileGuardOptions {
  files: readonly GuardedFile[];
  /** The install-time baseline file (`jmp-agent baseline`); absent: the files as they are at start. */
  baselinePath: string;
  intervalMs: number;
  log: Pick<Logger, 'warn' | 'info' | 'error'>;
  onTamper: (r: TamperReport) => void;
}

export class FileGuard {
  private entries: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;
  tampers = 0;
  lastTamper: { at: string; file: string } | null = null;

  constructor(private readonly o: FileGuardOptions) {}

  get guarded(): number {
    return this.entries.length;
  }

  /** Takes the baselines; with an install-time baseline, also reverts what changed while the agent was down. */
  init(): TamperReport[] {
    const installed = loadBaseline(this.o.baselinePath);
    this.entries = [];
    for (const spec of this.o.files) {
      const img = installed?.get(spec.path) ?? readImage(spec.path);
      if (!img.content) {
        if (spec.optional) {
          this.o.log.info({ file: spec.path }, 'optional guarded file is not installed; not guarding it');
          continue;
        }
        this.o.log.warn(
          { file: spec.path },
          'guarded file does not exist (and has no recorded baseline); not guarding it',
        );
        continue;
      }
      this.entries.push({
        spec,
        re: spec.lines ? new RegExp(spec.lines) : null,
        want: { content: img.content, mode: img.mode },
      });
    }
    this.o.log.info(
      { files: this.entries.map((e) => e.spec.path), baseline: installed ? this.o.baselinePath : 'at start' },
      'guarding files',
    );
    return installed ? this.check() : [];
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Compares every file with its baseline and reverts differences. */
  check(): TamperReport[] {
    const reports: TamperReport[] = [];
    for (const e of this.entries) {
      let r: TamperReport | null;
      try {
        r = this.checkOne(e);
      } catch (err) {
        r = {
          file: e.spec.path,
          restored: false,
          error: (err as Error).message,
          change: 'content',
          linesAdded: 0,
          linesRemoved: 0,
          bytesBefore: null,
          bytesAfter: null,
        };
      }
      if (!r) continue;
      this.tampers++;
      this.lastTamper = { at: new Date().toISOString(), file: r.file };
      if (r.restored) this.o.log.warn(r, `${r.file} was changed (${r.change}); restored`);
      else this.o.log.error(r, `${r.file} was changed (${r.change}) and could not be restored`);
      this.o.onTamper(r);
      reports.push(r);
    }
    return reports;
  }

  private checkOne(e: Entry): TamperReport | null {
    const cur = readImage(e.spec.path);
    const wantText = e.want.content.toString('utf8');
    const curText = cur.content?.toString('utf8') ?? null;
    let target: Buffer;
    if (e.re) {
      const pick = (t: string) => t.split('\n').filter((l) => e.re!.test(l));
      const wantLines = pick(wantText);
      const sameLines = curText !== null && sameArray(pick(curText), wantLines);
      target = sameLines
        ? cur.content!
        : Buffer.from(curText === null ? wantText : spliceLines(curText, e.re, wantLines));
    } else {
      target = curText !== null && cur.content!.equals(e.want.content) ? cur.content! : e.want.content;
    }
    const contentChanged = cur.content === null || !target.equals(cur.content);
    const modeChanged = cur.content !== null && e.want.mode !== null && cur.mode !== e.want.mode;
    if (!contentChanged && !modeChanged) return null;
    const delta =
      curText === null
        ? { added: 0, removed: wantText.split('\n').length }
        : lineDelta(e.re ? pick2(wantText, e.re) : wantText, e.re ? pick2(curText, e.re) : curText);
    const summary: ChangeSummary = {
      change:
        cur.content === null
          ? 'deleted'
          : contentChanged && modeChanged
            ? 'content+mode'
            : contentChanged
              ? 'content'
              : 'mode',
      linesAdded: delta.added,
      linesRemoved: delta.removed,
      bytesBefore: e.want.content.length,
      bytesAfter: cur.content?.length ?? null,
    };
    writeInPlace(e.spec.path, target, e.want.mode);
    return { file: e.spec.path, restored: true, ...summary };
  }
}

function pick2(text: string, re: RegExp): string {
  return text
    .split('\n')
    .filter((l) => re.test(l))
    .join('\n');
}

function sameArray(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** `text` with its lines matching `re` replaced by `lines`, at the place of the first match (or at the end). */
export function spliceLines(text: string, re: RegExp, lines: readonly string[]): string {
  const src = text.split('\n');
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) src.pop();
  const out: string[] = [];
  let inserted = false;
  for (const l of src) {
    if (re.test(l)) {
      if (!inserted) out.push(...lines);
      inserted = true;
    } else {
      out.push(l);
    }
  }
  if (!inserted) out.push(...lines);
  return out.join('\n') + (trailingNewline ? '\n' : '');
}

/**
 * Rewrites a file in place: same inode, written from offset 0 then truncated
 * (never empty in between), fsync-ed, mode restored. A symlink put in the
 * file's place is removed, never followed.
 */
export function writeInPlace(path: string, content: Buffer, mode: number | null): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') unlinkSync(path);
    else if (code !== 'ENOENT') throw err;
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode ?? 0o644);
  }
  try {
    writeAll(realFs, fd, content, 0);
    ftruncateSync(fd, content.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (mode !== null) chmodSync(path, mode);
}
