// Reading and replacing system files: atomically (temp file, fsync, rename),
// keeping the owner and mode of what was there.
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, chownSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FileImage {
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** The file, or undefined when it does not exist. A symlink or directory is refused. */
export function readImage(path: string): FileImage | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!st.isFile()) throw new Error(`${path} is not a regular file; refusing to change it`);
  return { content: readFileSync(path), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

export function writeAtomic(path: string, img: FileImage, tmpSuffix = '.jmp-new'): void {
  mkdirSync(dirname(path), { recursive: true });
  // A name with a dot: sudo's #includedir skips it while it is half written.
  const tmp = `${path}${tmpSuffix}`;
  const fd = openSync(tmp, 'w', img.mode);
  try {
    writeSync(fd, img.content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chownSync(tmp, img.uid, img.gid);
  chmodSync(tmp, img.mode); // after chown, which may clear set-id bits; open() honoured the umask
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}

export function removeIfPresent(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
