// The file-system calls the agent writes with, behind an interface so tests
// can inject failures (ENOSPC, a crash between steps). Synchronous on
// purpose: the files are small. Only fdatasync has an asynchronous form, for
// syncs that must not hold up the event loop (and with it, PAM answers).
import * as fs from 'node:fs';

export interface FsLayer {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number, position: number | null): number;
  fsyncSync(fd: number): void;
  fdatasyncSync(fd: number): void;
  /** fdatasync on libuv's thread pool. */
  fdatasync(fd: number, done: (err: Error | null) => void): void;
  fchmodSync(fd: number, mode: number): void;
  ftruncateSync(fd: number, len: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readFileSync(path: string): Buffer;
  mkdirSync(path: string, mode: number): void;
}

export const realFs: FsLayer = {
  openSync: (p, f, m) => fs.openSync(p, f, m),
  writeSync: (fd, d, o, l, pos) => fs.writeSync(fd, d, o, l, pos),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  fdatasync: (fd, done) => fs.fdatasync(fd, done),
  fchmodSync: (fd, m) => fs.fchmodSync(fd, m),
  ftruncateSync: (fd, l) => fs.ftruncateSync(fd, l),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (a, b) => fs.renameSync(a, b),
  unlinkSync: (p) => fs.unlinkSync(p),
  readFileSync: (p) => fs.readFileSync(p),
  mkdirSync: (p, m) => void fs.mkdirSync(p, { recursive: true, mode: m }),
};

/** Writes all of `data` at `position` (null: the current offset). */
export function writeAll(fsl: FsLayer, fd: number, data: Uint8Array, position: number | null = null): void {
  let off = 0;
  while (off < data.length) {
    const n = fsl.writeSync(fd, data, off, data.length - off, position === null ? null : position + off);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    off += n;
  }
}
