// Atomic replacement of a small file: a temp file in the same directory,
// written, chmod-ed and fsync-ed, renamed over the final name, then the
// directory fsync-ed. A reader (NSS in any process) sees the old file or the
// new one, never a partial one; a crash leaves at worst a stray temp file,
// which never carries the final name.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { realFs, writeAll, type FsLayer } from './fs.js';

const TEMP_SUFFIX = '.jmp-tmp';

export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

/**
 * `durable: false` skips both fsyncs: the swap stays atomic for readers and
 * survives a crash of the agent, but not necessarily one of the machine.
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number,
  fsl: FsLayer = realFs,
  opts: { durable?: boolean } = {},
): void {
  const durable = opts.durable ?? true;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempNameFor(path);
  const fd = fsl.openSync(tmp, 'wx', mode);
  let renamed = false;
  try {
    try {
      writeAll(fsl, fd, bytes);
      fsl.fchmodSync(fd, mode); // the umask may have narrowed the open() mode
      if (durable) fsl.fsyncSync(fd);
    } finally {
      fsl.closeSync(fd);
    }
    fsl.renameSync(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) {
      try {
        fsl.unlinkSync(tmp);
      } catch {
        /* already gone */
      }
    }
  }
  if (durable) fsyncDir(dirname(path), fsl);
}

/** fsync of a directory, so a rename in it survives a crash. Best effort: some file systems refuse it. */
export function fsyncDir(dir: string, fsl: FsLayer = realFs): void {
  let fd: number;
  try {
    fd = fsl.openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsl.fsyncSync(fd);
  } catch {
    /* EINVAL on some file systems */
  } finally {
    fsl.closeSync(fd);
  }
}

/** Removes temp files a crashed writer left next to `path`. */
export function removeStaleTemps(path: string, fsl: FsLayer = realFs): void {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(prefix) && n.endsWith(TEMP_SUFFIX)) {
      try {
        fsl.unlinkSync(join(dirname(path), n));
      } catch {
        /* raced with another cleaner */
      }
    }
  }
}
