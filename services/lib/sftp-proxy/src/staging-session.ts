// One SFTP session's requests on `/~staging/…`, answered from S3 (see
// staging.ts). Uploads stream as they arrive, so writes must come in order:
// any other offset ends the upload with a status saying so. Audited like
// transfers on hosts, with host `~staging`.
import { createHash, type Hash } from 'node:crypto';
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import type { ObjectUpload } from '@jmp/recording';
import type { FileOperation } from '@jmp/contract/schemas/files';
import type { FileAudit, OpenOperation } from './audit.js';
import { STAGING } from './paths.js';
import { opensForWrite } from './policy.js';
import { STATUS, type Status } from './status.js';
import type { Staging, StagingEntry } from './staging.js';

/** SFTP v3 open flags. */
const APPEND = 0x04;
const EXCL = 0x20;

type ReadHandle = { kind: 'read'; path: string; size: number; read: number; op: OpenOperation };
type WriteHandle = {
  kind: 'write';
  path: string;
  upload: ObjectUpload;
  next: number;
  hash: Hash;
  failure: string | null;
  op: OpenOperation;
};
type DirHandle = { kind: 'dir'; path: string; done: boolean };
type Handle = ReadHandle | WriteHandle | DirHandle;

export interface StagingSessionDeps {
  sftp: SFTPWrapper;
  user: string;
  staging: Staging;
  audit: FileAudit;
  reply(id: number, s: Status): void;
  /** A new handle number (shared with the session's other handles). */
  allocate(): number;
  isClosed(): boolean;
}

const show = (path: string) => (path ? `/${STAGING}/${path}` : `/${STAGING}`);
const message = (err: unknown) => `staging store: ${(err as Error).message}`;

function attrsOf(e: StagingEntry): Attributes {
  const mtime = Math.floor(e.modified.getTime() / 1000);
  return e.kind === 'dir'
    ? { mode: 0o40700, uid: 0, gid: 0, size: 0, atime: mtime, mtime }
    : { mode: 0o100600, uid: 0, gid: 0, size: e.size, atime: mtime, mtime };
}

function longname(name: string, e: StagingEntry): string {
  const date = e.modified.toISOString().slice(0, 16).replace('T', ' ');
  const size = e.kind === 'file' ? e.size : 0;
  return `${e.kind === 'dir' ? 'drwx------' : '-rw-------'}    1 jmp      jmp      ${String(size).padStart(12)} ${date} ${name}`;
}

export class StagingSession {
  private readonly handles = new Map<number, Handle>();
  constructor(private readonly d: StagingSessionDeps) {}

  get size(): number {
    return this.handles.size;
  }
  owns(hb: Buffer): boolean {
    return hb.length === 4 && this.handles.has(hb.readUInt32BE(0));
  }

  private ok(id: number): void {
    this.d.reply(id, { code: STATUS.OK, message: '' });
  }
  private add(h: Handle): Buffer {
    const n = this.d.allocate();
    this.handles.set(n, h);
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n);
    return b;
  }
  private get(hb: Buffer): Handle | undefined {
    return this.handles.get(hb.readUInt32BE(0));
  }
  /** The fields every staging event shares. */
  private base(operation: FileOperation['operation'], path: string) {
    return { user: this.d.user, host: STAGING, path: show(path), operation, bytesRead: 0, bytesWritten: 0 };
  }
  private record(operation: FileOperation['operation'], path: string, s: Status, extra: Partial<FileOperation> = {}) {
    this.d.audit.record({
      ...this.base(operation, path),
      durationMs: 0,
      result: s.code === STATUS.OK ? 'ok' : 'failed',
      ...(s.code === STATUS.OK ? {} : { message: s.message.slice(0, 512) }),
      ...extra,
    });
  }
  private begin(operation: 'upload' | 'download', path: string): OpenOperation {
    return this.d.audit.begin(this.base(operation, path));
  }
  /** Runs `work`, answering its status; a store error is a FAILURE with the store's message. */
  private async run(id: number, work: () => Promise<Status>, audit?: (s: Status) => void): Promise<void> {
    let s: Status;
    try {
      s = await work();
    } catch (err) {
      s = { code: STATUS.FAILURE, message: message(err) };
    }
    audit?.(s);
    this.d.reply(id, s);
  }

  async open(id: number, path: string, flags: number): Promise<void> {
    const { staging, user } = this.d;
    if (path === '') return this.d.reply(id, { code: STATUS.FAILURE, message: `/${STAGING} is a directory` });
    try {
      if (opensForWrite(flags)) {
        if (flags & APPEND) {
          const s = {
            code: STATUS.OP_UNSUPPORTED,
            message: `${show(path)}: appending is not supported in staging; upload the whole file`,
          };
          this.record('upload', path, s);
          return this.d.reply(id, s);
        }
        if (flags & EXCL && (await staging.stat(user, path))) {
          const s = { code: STATUS.FAILURE, message: `${show(path)} exists` };
          this.record('upload', path, s);
          return this.d.reply(id, s);
        }
        const h: WriteHandle = {
          kind: 'write',
          path,
          upload: staging.upload(user, path),
          next: 0,
          hash: createHash('sha256'),
          failure: null,
          op: this.begin('upload', path),
        };
        return this.d.sftp.handle(id, this.add(h)) as unknown as void;
      }
      const e = await staging.stat(user, path);
      if (!e) return this.d.reply(id, { code: STATUS.NO_SUCH_FILE, message: `no file ${show(path)}` });
      if (e.kind === 'dir') return this.d.reply(id, { code: STATUS.FAILURE, message: `${show(path)} is a directory` });
      if (this.d.isClosed()) return;
      this.d.sftp.handle(id, this.add({ kind: 'read', path, size: e.size, read: 0, op: this.begin('download', path) }));
    } catch (err) {
      this.d.reply(id, { code: STATUS.FAILURE, message: message(err) });
    }
  }

  read(id: number, hb: Buffer, offset: number, length: number): void {
    const h = this.get(hb);
    if (h?.kind !== 'read') return this.d.reply(id, { code: STATUS.FAILURE, message: 'not a file open for reading' });
    if (offset >= h.size || length === 0) return this.d.reply(id, { code: STATUS.EOF, message: '' });
    this.d.staging.read(this.d.user, h.path, offset, Math.min(offset + length, h.size)).then(
      (data) => {
        h.read += data.length;
        if (!this.d.isClosed()) this.d.sftp.data(id, data);
      },
      (err: unknown) => this.d.reply(id, { code: STATUS.FAILURE, message: message(err) }),
    );
  }

  write(id: number, hb: Buffer, offset: number, data: Buffer): void {
    const h = this.get(hb);
    if (h?.kind !== 'write') return this.d.reply(id, { code: STATUS.FAILURE, message: 'not a file open for writing' });
    if (h.failure) return this.d.reply(id, { code: STATUS.FAILURE, message: h.failure });
    if (offset !== h.next) {
      h.failure = `writes to /${STAGING} must be sequential (from offset 0, in order): offset ${offset} came where ${h.next} was expected; this upload is abandoned (resume and random writes are not supported in staging)`;
      void h.upload.abort();
      return this.d.reply(id, { code: STATUS.OP_UNSUPPORTED, message: h.failure });
    }
    h.next += data.length;
    h.hash.update(data);
    h.upload.write(data).then(
      () => this.ok(id),
      (err: unknown) => {
        h.failure ??= message(err);
        this.d.reply(id, { code: STATUS.FAILURE, message: h.failure });
      },
    );
  }

  close(id: number, hb: Buffer): void {
    const h = this.get(hb);
    this.handles.delete(hb.readUInt32BE(0));
    if (!h || h.kind === 'dir') return this.ok(id);
    if (h.kind === 'read') {
      h.op.end('ok', { bytesRead: h.read });
      return this.ok(id);
    }
    void this.run(
      id,
      async () => {
        if (h.failure) {
          await h.upload.abort();
          return { code: STATUS.FAILURE, message: h.failure };
        }
        await h.upload.finish();
        return { code: STATUS.OK, message: '' };
      },
      (s) =>
        h.op.end(s.code === STATUS.OK ? 'ok' : 'failed', {
          bytesWritten: h.next,
          ...(s.code === STATUS.OK ? { sha256: h.hash.digest('hex') } : { message: s.message.slice(0, 512) }),
        }),
    );
  }

  fstat(id: number, hb: Buffer): void {
    const h = this.get(hb)!;
    const size = h.kind === 'read' ? h.size : h.kind === 'write' ? h.next : 0;
    const e: StagingEntry =
      h.kind === 'dir' ? { kind: 'dir', modified: new Date() } : { kind: 'file', size, modified: new Date() };
    this.d.sftp.attrs(id, attrsOf(e));
  }

  async stat(id: number, path: string): Promise<void> {
    try {
      const e = await this.d.staging.stat(this.d.user, path);
      if (!e) return this.d.reply(id, { code: STATUS.NO_SUCH_FILE, message: `no file ${show(path)}` });
      if (!this.d.isClosed()) this.d.sftp.attrs(id, attrsOf(e));
    } catch (err) {
      this.d.reply(id, { code: STATUS.FAILURE, message: message(err) });
    }
  }

  async opendir(id: number, path: string): Promise<void> {
    try {
      const e = await this.d.staging.stat(this.d.user, path);
      if (!e) return this.d.reply(id, { code: STATUS.NO_SUCH_FILE, message: `no directory ${show(path)}` });
      if (e.kind !== 'dir')
        return this.d.reply(id, { code: STATUS.FAILURE, message: `${show(path)} is not a directory` });
      if (!this.d.isClosed()) this.d.sftp.handle(id, this.add({ kind: 'dir', path, done: false }));
    } catch (err) {
      this.d.reply(id, { code: STATUS.FAILURE, message: message(err) });
    }
  }

  readdir(id: number, hb: Buffer): void {
    const h = this.get(hb);
    if (h?.kind !== 'dir') return this.d.reply(id, { code: STATUS.FAILURE, message: 'not an open directory' });
    if (h.done) return this.d.reply(id, { code: STATUS.EOF, message: '' });
    h.done = true;
    this.d.staging.list(this.d.user, h.path).then(
      (list) => {
        const names: FileEntry[] = list.map((e) => ({
          filename: e.name,
          longname: longname(e.name, e),
          attrs: attrsOf(e),
        }));
        if (names.length === 0) this.d.reply(id, { code: STATUS.EOF, message: '' });
        else if (!this.d.isClosed()) this.d.sftp.name(id, names);
      },
      (err: unknown) => this.d.reply(id, { code: STATUS.FAILURE, message: message(err) }),
    );
  }

  remove(id: number, path: string): Promise<void> {
    return this.run(
      id,
      () => this.d.staging.remove(this.d.user, path),
      (s) => this.record('remove', path, s),
    );
  }
  mkdir(id: number, path: string): Promise<void> {
    return this.run(
      id,
      () => this.d.staging.mkdir(this.d.user, path),
      (s) => this.record('mkdir', path, s),
    );
  }
  rmdir(id: number, path: string): Promise<void> {
    return this.run(
      id,
      () => this.d.staging.rmdir(this.d.user, path),
      (s) => this.record('rmdir', path, s),
    );
  }
  rename(id: number, from: string, to: string): Promise<void> {
    return this.run(
      id,
      () => this.d.staging.rename(this.d.user, from, to),
      (s) => this.record('rename', from, s, { path2: show(to) }),
    );
  }

  /** The session ended: uploads not closed are dropped (the object never appears) and audited incomplete. */
  closeAll(): void {
    for (const h of this.handles.values()) {
      if (h.kind === 'write') {
        void h.upload.abort();
        h.op.end('incomplete', { bytesWritten: h.next });
      } else if (h.kind === 'read') h.op.end('incomplete', { bytesRead: h.read });
    }
    this.handles.clear();
  }
}
