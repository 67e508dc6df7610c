// The staging area `/~staging/`: each person's files in S3 under
// `<prefix><user>/`, so any jmp-sftp instance serves them (no local state).
// A directory is a key prefix (mkdir writes an empty `<dir>/` marker); an
// object older than the lifetime is gone: never listed, never opened, and
// deleted by sweep().
import type { ObjectInfo, ObjectUpload, S3Objects } from '@jmp/recording';
import { STATUS, type Status } from './status.js';

export interface StagingOptions {
  objects: S3Objects;
  /** Key prefix of the area, e.g. `staging/` (a trailing slash is added when missing). */
  prefix: string;
  lifetimeMs: number;
}

export type StagingEntry = { kind: 'file'; size: number; modified: Date } | { kind: 'dir'; modified: Date };

export class Staging {
  readonly objects: S3Objects;
  readonly prefix: string;
  readonly lifetimeMs: number;

  constructor(o: StagingOptions) {
    this.objects = o.objects;
    this.prefix = o.prefix && !o.prefix.endsWith('/') ? `${o.prefix}/` : o.prefix;
    this.lifetimeMs = o.lifetimeMs;
  }

  /** The key of `path` (relative, already resolved) in `user`'s area. */
  key(user: string, path: string): string {
    return `${this.prefix}${user}/${path}`;
  }

  private live(o: ObjectInfo): boolean {
    return Date.now() - o.modified.getTime() < this.lifetimeMs;
  }

  /** What `path` is: a file, a directory (a marker or any object below it), or null. */
  async stat(user: string, path: string): Promise<StagingEntry | null> {
    if (path === '') return { kind: 'dir', modified: new Date() };
    const key = this.key(user, path);
    const o = await this.objects.head(key);
    if (o && this.live(o)) return { kind: 'file', size: o.size, modified: o.modified };
    const below = await this.objects.list(`${key}/`, undefined, 1000);
    const any = below.objects.find((b) => this.live(b));
    return any ? { kind: 'dir', modified: any.modified } : null;
  }

  /** One level of `path`: its files and sub-directories, expired objects left out. */
  async list(user: string, path: string): Promise<Array<{ name: string } & StagingEntry>> {
    const base = path === '' ? this.key(user, '') : `${this.key(user, path)}/`;
    const r = await this.objects.list(base, '/');
    const out: Array<{ name: string } & StagingEntry> = [];
    for (const p of r.prefixes) out.push({ name: p.slice(base.length, -1), kind: 'dir', modified: new Date() });
    for (const o of r.objects) {
      if (o.key === base || !this.live(o)) continue; // the directory's own marker; expired
      out.push({ name: o.key.slice(base.length), kind: 'file', size: o.size, modified: o.modified });
    }
    return out;
  }

  read(user: string, path: string, start: number, end: number): Promise<Buffer> {
    return this.objects.getRange(this.key(user, path), start, end);
  }

  upload(user: string, path: string): ObjectUpload {
    return this.objects.upload(this.key(user, path));
  }

  async remove(user: string, path: string): Promise<Status> {
    const o = await this.objects.head(this.key(user, path));
    if (!o || !this.live(o)) return { code: STATUS.NO_SUCH_FILE, message: `no file /~staging/${path}` };
    await this.objects.delete(o.key);
    return { code: STATUS.OK, message: '' };
  }

  /** Copy, then delete: S3 has no rename. */
  async rename(user: string, from: string, to: string): Promise<Status> {
    const o = await this.objects.head(this.key(user, from));
    if (!o || !this.live(o)) return { code: STATUS.NO_SUCH_FILE, message: `no file /~staging/${from}` };
    const dest = this.key(user, to);
    if (await this.objects.head(dest))
      return { code: STATUS.FAILURE, message: `/~staging/${to} exists; remove it first` };
    await this.objects.copy(o.key, dest);
    await this.objects.delete(o.key);
    return { code: STATUS.OK, message: '' };
  }

  async mkdir(user: string, path: string): Promise<Status> {
    if (path === '' || (await this.stat(user, path)))
      return { code: STATUS.FAILURE, message: `/~staging/${path} exists` };
    await this.objects.put(`${this.key(user, path)}/`, Buffer.alloc(0));
    return { code: STATUS.OK, message: '' };
  }

  async rmdir(user: string, path: string): Promise<Status> {
    const marker = `${this.key(user, path)}/`;
    const below = await this.objects.list(marker, undefined, 2);
    if (below.objects.some((o) => o.key !== marker))
      return { code: STATUS.FAILURE, message: `/~staging/${path} is not empty` };
    if (!below.objects.length) return { code: STATUS.NO_SUCH_FILE, message: `no directory /~staging/${path}` };
    await this.objects.delete(marker);
    return { code: STATUS.OK, message: '' };
  }

  /** Deletes every object older than the lifetime, for all people; returns how many. Safe on any instance, at any time. */
  async sweep(): Promise<number> {
    const r = await this.objects.list(this.prefix);
    let n = 0;
    for (const o of r.objects) {
      if (this.live(o)) continue;
      await this.objects.delete(o.key);
      n++;
    }
    return n;
  }
}
