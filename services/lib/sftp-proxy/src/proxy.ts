// One person's SFTP session, served from an ssh2 server-side SFTP channel: the
// virtual tree (`/` lists her hosts, `/<host>/…` is that host's file system
// in her own SFTP session there) and every SFTP v3 request proxied to the
// target with the target's status passed through. READ and WRITE are sent to
// the target the moment they arrive and answered by request id as the target
// answers, so a client's pipeline (OpenSSH: 64 × 32 KiB) stays full end to
// end; ssh2's stream helpers, which keep one request in flight, are never used.
import { createHash, type Hash } from 'node:crypto';
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import type { MyHost } from '@jmp/contract/schemas/access';
import type { FileOperation } from '@jmp/contract/schemas/files';
import type { OpenOperation } from './audit.js';
import { describe, resolveVirtual, STAGING, toVirtual, type VirtualPath } from './paths.js';
import { opensForWrite, refusal, type Access } from './policy.js';
import { fromTargetError, STATUS, type Status } from './status.js';
import type { Staging } from './staging.js';
import { StagingSession } from './staging-session.js';
import { Target, TargetPool, TargetRefusal, type TargetPoolOptions } from './targets.js';

export interface SftpLimits {
  /** Open file and directory handles per session. */
  maxHandles: number;
  /** READ lengths and WRITE payloads waiting for the targets' answers, per session. */
  maxBytesInFlight: number;
  /** A target connection without open handles or requests is closed after this long. */
  targetIdleMs: number;
  /** How long the person's host list is reused before it is asked again. */
  hostsCacheMs?: number;
}

/** Who the session is for and what it runs with: the target pool's options, and the limits. */
export interface SftpSessionOptions extends Omit<TargetPoolOptions, 'idleMs'> {
  limits: SftpLimits;
  /** The staging area `/~staging/` (absent: not configured, and the path is refused). */
  staging?: Staging | undefined;
}

/** The largest READ forwarded at once; a longer one is answered short, as SFTP allows. */
export const MAX_READ = 256 * 1024;

const DIR_ATTRS: Attributes = { mode: 0o40555, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 };
const NO_ATTRS = {} as Attributes;

type FileHandle = {
  kind: 'file';
  target: Target;
  th: Buffer;
  path: string;
  write: boolean;
  op: OpenOperation;
  read: number;
  written: number;
  /** SHA-256 of the bytes written while every write continued the last one; null once one did not. */
  hash: Hash | null;
  next: number;
  failure: string | null;
};
/** ssh2's readdir with its `full` option, which its types leave out. */
interface FullReaddir {
  readdir(h: Buffer, o: { full: boolean }, cb: (e: Error | undefined, l: FileEntry[]) => void): void;
}
type Handle =
  { kind: 'hosts'; names: FileEntry[] | null } | { kind: 'dir'; target: Target; th: Buffer; path: string } | FileHandle;

/** Serves one SFTP channel until it closes; returns a function that ends it. */
export function serveSftp(sftp: SFTPWrapper, o: SftpSessionOptions): { close(): void } {
  const { api, log, audit, user } = o;
  const pool = new TargetPool({ ...o, idleMs: o.limits.targetIdleMs });
  const handles = new Map<number, Handle>();
  let nextHandle = 1;
  let inFlight = 0;
  /** Opens waiting for their target: they count against the handle cap already. */
  let opening = 0;
  let hostList: { at: number; hosts: Promise<Map<string, MyHost>> } | null = null;
  let closed = false;

  const reply = (id: number, s: Status) => {
    if (!closed) sftp.status(id, s.code, s.message);
  };
  const ok = (id: number) => reply(id, { code: STATUS.OK, message: '' });
  const denied = (id: number, message: string) => reply(id, { code: STATUS.PERMISSION_DENIED, message });
  const staged = o.staging
    ? new StagingSession({
        sftp,
        user,
        staging: o.staging,
        audit,
        reply,
        allocate: () => nextHandle++ >>> 0,
        isClosed: () => closed,
      })
    : null;
  /** `/~staging` on a jmp without a staging store: answered, never sent to a host. */
  const noStaging = (id: number) =>
    reply(id, { code: STATUS.NO_SUCH_FILE, message: `/${STAGING} is not configured on this jmp` });

  function hosts(): Promise<Map<string, MyHost>> {
    const ttl = o.limits.hostsCacheMs ?? 15_000;
    if (!hostList || Date.now() - hostList.at > ttl) {
      const p = api.myHosts(user).then((list) => new Map(list.map((h) => [h.hostname, h])));
      p.catch(() => {
        if (hostList?.hosts === p) hostList = null;
      });
      hostList = { at: Date.now(), hosts: p };
    }
    return hostList.hosts;
  }

  /** Null when the person may log in to `host` (from her host list), else the status to answer. */
  async function mayUse(host: string): Promise<Status | null> {
    try {
      if ((await hosts()).has(host)) return null;
      return {
        code: STATUS.PERMISSION_DENIED,
        message: `${user} may not log in to ${host} (no host by that name in your list)`,
      };
    } catch {
      // jmp-api is down: a host already open goes on (its login was checked), no new one is logged in to.
      if (pool.has(host)) return null;
      return { code: STATUS.NO_CONNECTION, message: 'jmp is unavailable right now; try again shortly' };
    }
  }

  /** The target for `host`, logging in on first use, and refusing what its service's transfer mode forbids. */
  async function target(host: string, access: Access): Promise<Target | Status> {
    const refused = await mayUse(host);
    if (refused) return refused;
    let t: Target;
    try {
      t = await pool.get(host);
    } catch (err) {
      if (err instanceof TargetRefusal)
        return { code: err.kind === 'denied' ? STATUS.PERMISSION_DENIED : STATUS.NO_CONNECTION, message: err.message };
      return { code: STATUS.FAILURE, message: (err as Error).message };
    }
    const why = refusal(t.mode, access, host);
    return why ? { code: STATUS.PERMISSION_DENIED, message: why } : t;
  }

  function handleBuf(n: number): Buffer {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n);
    return b;
  }
  /** Handles whose target went away: answered CONNECTION_LOST with the reason until the client closes them. */
  const lost = new Map<number, string>();
  function lostReply(id: number, hb: Buffer, closing = false): boolean {
    const n = hb.length === 4 ? hb.readUInt32BE(0) : -1;
    const why = lost.get(n);
    if (why === undefined) return false;
    if (closing) lost.delete(n);
    reply(id, { code: STATUS.CONNECTION_LOST, message: why });
    return true;
  }
  function lookup(h: Buffer): Handle | undefined {
    return h.length === 4 ? handles.get(h.readUInt32BE(0)) : undefined;
  }
  function addHandle(h: Handle): Buffer {
    const n = nextHandle++ >>> 0;
    handles.set(n, h);
    return handleBuf(n);
  }
  const tooManyHandles = (): Status | null =>
    handles.size + (staged?.size ?? 0) + opening >= o.limits.maxHandles
      ? {
          code: STATUS.FAILURE,
          message: `too many open files and directories in this session (limit ${o.limits.maxHandles})`,
        }
      : null;

  /** Audits a finished operation that has no handle. */
  function record(
    v: Exclude<VirtualPath, { kind: 'invalid' }>,
    operation: FileOperation['operation'],
    s: Status,
    extra: Partial<FileOperation> = {},
    session?: string,
  ): void {
    audit.record({
      user,
      host: v.kind === 'root' ? '/' : v.kind === 'staging' ? STAGING : v.host,
      path: describe(v),
      operation,
      bytesRead: 0,
      bytesWritten: 0,
      durationMs: 0,
      result: s.code === STATUS.OK ? 'ok' : s.code === STATUS.PERMISSION_DENIED ? 'refused' : 'failed',
      ...(s.code === STATUS.OK ? {} : { message: s.message.slice(0, 512) }),
      ...(session ? { session } : {}),
      ...extra,
    });
  }

  /** Runs one target request: holds the target while it is in flight, answers by `id` exactly once. */
  function forward<T>(
    id: number,
    t: Target,
    call: (cb: (err: Error | undefined | null, value?: T) => void) => void,
    onOk: (value: T) => void,
    onDone?: (s: Status) => void,
  ): void {
    t.hold();
    try {
      call((err, value) => {
        t.release();
        if (err) {
          const s = fromTargetError(err);
          onDone?.(s);
          reply(id, s);
        } else {
          onDone?.({ code: STATUS.OK, message: '' });
          onOk(value as T);
        }
      });
    } catch (err) {
      t.release();
      const s = { code: STATUS.FAILURE, message: (err as Error).message };
      onDone?.(s);
      reply(id, s);
    }
  }

  const invalid = (id: number, v: VirtualPath): v is Extract<VirtualPath, { kind: 'invalid' }> => {
    if (v.kind !== 'invalid') return false;
    reply(id, { code: STATUS.BAD_MESSAGE, message: v.reason });
    return true;
  };
  const notHere = (v: VirtualPath) =>
    `${describe(v)} is jmp's list of hosts and cannot be changed: use a path on a host, such as /<host>/tmp/`;

  // ---- open, read, write, close ------------------------------------------------

  sftp.on('OPEN', (id, filename, flags, attrs) => {
    void (async () => {
      const v = resolveVirtual(filename);
      if (invalid(id, v)) return;
      if (v.kind === 'staging') {
        if (!staged) return noStaging(id);
        const limit = tooManyHandles();
        return limit ? reply(id, limit) : staged.open(id, v.path, flags);
      }
      const write = opensForWrite(flags);
      if (v.kind !== 'target') {
        if (write) {
          denied(id, notHere(v));
          record(v, 'upload', { code: STATUS.PERMISSION_DENIED, message: notHere(v) });
        } else reply(id, { code: STATUS.FAILURE, message: `${describe(v)} is a directory` });
        return;
      }
      const limit = tooManyHandles();
      if (limit) return reply(id, limit);
      // The slot is held from here until the target answers the open.
      opening++;
      const t = await target(v.host, write ? 'write' : 'read').catch((err: Error): Status => ({
        code: STATUS.FAILURE,
        message: err.message,
      }));
      if (!(t instanceof Target)) {
        opening--;
        if (t.code === STATUS.PERMISSION_DENIED) record(v, write ? 'upload' : 'download', t);
        return reply(id, t);
      }
      const operation = write ? 'upload' : 'download';
      forward<Buffer>(
        id,
        t,
        (cb) => t.sftp.open(v.path, flags, attrs ?? {}, cb),
        (th) => {
          if (closed) {
            t.sftp.close(th, () => {});
            return;
          }
          t.hold();
          const op = audit.begin({
            session: t.session,
            user,
            host: v.host,
            path: describe(v),
            operation,
            bytesRead: 0,
            bytesWritten: 0,
          });
          sftp.handle(
            id,
            addHandle({
              kind: 'file',
              target: t,
              th,
              path: describe(v),
              write,
              op,
              read: 0,
              written: 0,
              hash: write ? createHash('sha256') : null,
              next: 0,
              failure: null,
            }),
          );
        },
        (s) => {
          opening--;
          if (s.code !== STATUS.OK) record(v, operation, s, {}, t.session);
        },
      );
    })();
  });

  sftp.on('READ', (id, hb, offset, length) => {
    if (lostReply(id, hb)) return;
    if (staged?.owns(hb)) return staged.read(id, hb, offset, Math.min(length, MAX_READ));
    const h = lookup(hb);
    if (h?.kind !== 'file') return reply(id, { code: STATUS.FAILURE, message: 'not an open file' });
    const len = Math.min(length, MAX_READ);
    if (inFlight + len > o.limits.maxBytesInFlight)
      return reply(id, {
        code: STATUS.FAILURE,
        message: `too many bytes waiting for the host (limit ${o.limits.maxBytesInFlight}); send fewer requests at once`,
      });
    if (len === 0) return sftp.data(id, Buffer.alloc(0));
    inFlight += len;
    const t = h.target;
    t.hold();
    const cb = (err: (Error & { code?: unknown }) | undefined, n: number, data: Buffer) => {
      inFlight -= len;
      t.release();
      if (err) {
        if (err.code !== STATUS.EOF) h.failure ??= err.message;
        return reply(id, fromTargetError(err));
      }
      h.read += n;
      t.bytesRead += n;
      if (!closed) sftp.data(id, n === data.length ? data : data.subarray(0, n));
    };
    // ssh2 turns the target's EOF into a zero-length success unless asked to pass it on.
    (cb as unknown as { _wantEOFError: boolean })._wantEOFError = true;
    try {
      t.sftp.read(h.th, Buffer.allocUnsafe(len), 0, len, offset, cb);
    } catch (err) {
      inFlight -= len;
      t.release();
      reply(id, { code: STATUS.FAILURE, message: (err as Error).message });
    }
  });

  sftp.on('WRITE', (id, hb, offset, data) => {
    if (lostReply(id, hb)) return;
    if (staged?.owns(hb)) return staged.write(id, hb, offset, data);
    const h = lookup(hb);
    if (h?.kind !== 'file') return reply(id, { code: STATUS.FAILURE, message: 'not an open file' });
    if (!h.write) return reply(id, { code: STATUS.PERMISSION_DENIED, message: 'the file was opened for reading' });
    const len = data.length;
    if (inFlight + len > o.limits.maxBytesInFlight)
      return reply(id, {
        code: STATUS.FAILURE,
        message: `too many bytes waiting for the host (limit ${o.limits.maxBytesInFlight}); send fewer requests at once`,
      });
    // The hash follows the order the client sent (the order the target applies them in).
    if (h.hash && offset === h.next) {
      h.hash.update(data);
      h.next += len;
    } else h.hash = null;
    inFlight += len;
    const t = h.target;
    forward<void>(
      id,
      t,
      (cb) => t.sftp.write(h.th, data, 0, len, offset, cb),
      () => {
        h.written += len;
        t.bytesWritten += len;
        ok(id);
      },
      (s) => {
        inFlight -= len;
        if (s.code !== STATUS.OK) h.failure ??= s.message;
      },
    );
  });

  sftp.on('CLOSE', (id, hb) => {
    if (lostReply(id, hb, true)) return;
    if (staged?.owns(hb)) return staged.close(id, hb);
    const h = lookup(hb);
    if (!h) return reply(id, { code: STATUS.FAILURE, message: 'not an open handle' });
    handles.delete(hb.readUInt32BE(0));
    if (h.kind === 'hosts') return ok(id);
    const t = h.target;
    forward<void>(
      id,
      t,
      (cb) => t.sftp.close(h.th, cb),
      () => ok(id),
      (s) => {
        t.release();
        if (h.kind === 'file') finishFile(h, s.code === STATUS.OK ? null : s.message);
      },
    );
  });

  function finishFile(h: FileHandle, closeFailure: string | null, result?: FileOperation['result']): void {
    const failure = h.failure ?? closeFailure;
    const sha256 = h.write && h.hash && h.written === h.next && h.written > 0 ? h.hash.digest('hex') : undefined;
    h.op.end(result ?? (failure ? 'failed' : 'ok'), {
      bytesRead: h.read,
      bytesWritten: h.written,
      ...(failure ? { message: failure.slice(0, 512) } : {}),
      ...(sha256 && !failure && !result ? { sha256 } : {}),
    });
  }

  // ---- handles on attributes -------------------------------------------------------

  sftp.on('FSTAT', (id, hb) => {
    if (lostReply(id, hb)) return;
    if (staged?.owns(hb)) return staged.fstat(id, hb);
    const h = lookup(hb);
    if (!h) return reply(id, { code: STATUS.FAILURE, message: 'not an open handle' });
    if (h.kind === 'hosts') return sftp.attrs(id, DIR_ATTRS);
    forward<Attributes>(
      id,
      h.target,
      (cb) => h.target.sftp.fstat(h.th, cb),
      (a) => sftp.attrs(id, a),
    );
  });

  sftp.on('FSETSTAT', (id, hb, attrs) => {
    if (staged?.owns(hb)) return ok(id); // S3 objects keep no mode or times: accepted, ignored
    const h = lookup(hb);
    if (!h) return reply(id, { code: STATUS.FAILURE, message: 'not an open handle' });
    if (h.kind === 'hosts') return denied(id, notHere({ kind: 'root' }));
    const why = refusal(h.target.mode, 'write', h.target.host);
    if (why) return denied(id, why);
    forward<void>(
      id,
      h.target,
      (cb) => h.target.sftp.fsetstat(h.th, attrs, cb),
      () => ok(id),
    );
  });

  // ---- directories -----------------------------------------------------------------

  sftp.on('OPENDIR', (id, path) => {
    void (async () => {
      const v = resolveVirtual(path);
      if (invalid(id, v)) return;
      const limit = tooManyHandles();
      if (limit) return reply(id, limit);
      if (v.kind === 'root') return sftp.handle(id, addHandle({ kind: 'hosts', names: null }));
      if (v.kind === 'staging') return staged ? staged.opendir(id, v.path) : noStaging(id);
      const t = await target(v.host, 'list');
      if (!(t instanceof Target)) return reply(id, t);
      const tpath = v.kind === 'host' ? '/' : v.path;
      forward<Buffer>(
        id,
        t,
        (cb) => t.sftp.opendir(tpath, cb),
        (th) => {
          t.hold();
          sftp.handle(id, addHandle({ kind: 'dir', target: t, th, path: describe(v) }));
        },
      );
    })();
  });

  sftp.on('READDIR', (id, hb) => {
    if (lostReply(id, hb)) return;
    if (staged?.owns(hb)) return staged.readdir(id, hb);
    const h = lookup(hb);
    if (!h || h.kind === 'file') return reply(id, { code: STATUS.FAILURE, message: 'not an open directory' });
    if (h.kind === 'hosts') {
      if (h.names) return reply(id, { code: STATUS.EOF, message: '' });
      hosts().then(
        (m) => {
          h.names = [...(staged ? [STAGING] : []), ...m.keys()].map((name) => ({
            filename: name,
            longname: `dr-xr-xr-x    2 root     root            0 Jan  1  1970 ${name}`,
            attrs: DIR_ATTRS,
          }));
          if (h.names.length === 0) reply(id, { code: STATUS.EOF, message: '' });
          else if (!closed) sftp.name(id, h.names);
        },
        () => reply(id, { code: STATUS.NO_CONNECTION, message: 'jmp is unavailable right now; try again shortly' }),
      );
      return;
    }
    forward<FileEntry[]>(
      id,
      h.target,
      // `full`: keep `.` and `..` as the target lists them.
      (cb) => (h.target.sftp as unknown as FullReaddir).readdir(h.th, { full: true }, cb),
      (list) => {
        if (!closed) sftp.name(id, list);
      },
    );
  });

  // ---- paths -----------------------------------------------------------------------

  const statLike = (kind: 'stat' | 'lstat') => (id: number, path: string) => {
    void (async () => {
      const v = resolveVirtual(path);
      if (invalid(id, v)) return;
      if (v.kind === 'root') return sftp.attrs(id, DIR_ATTRS);
      if (v.kind === 'staging') return staged ? staged.stat(id, v.path) : noStaging(id);
      if (v.kind === 'host') {
        const refused = await mayUse(v.host);
        return refused
          ? reply(id, refused.code === STATUS.PERMISSION_DENIED ? { ...refused, code: STATUS.NO_SUCH_FILE } : refused)
          : sftp.attrs(id, DIR_ATTRS);
      }
      const t = await target(v.host, 'list');
      if (!(t instanceof Target)) return reply(id, t);
      forward<Attributes>(
        id,
        t,
        (cb) => t.sftp[kind](v.path, cb),
        (a) => sftp.attrs(id, a),
      );
    })();
  };
  sftp.on('STAT', statLike('stat'));
  sftp.on('LSTAT', statLike('lstat'));

  sftp.on('REALPATH', (id, path) => {
    void (async () => {
      const v = resolveVirtual(path);
      if (invalid(id, v)) return;
      const answer = (p: string) => {
        if (!closed) sftp.name(id, [{ filename: p, longname: p, attrs: NO_ATTRS }]);
      };
      if (v.kind !== 'target') return answer(describe(v));
      const t = await target(v.host, 'list');
      if (!(t instanceof Target)) return reply(id, t);
      forward<string>(
        id,
        t,
        (cb) => t.sftp.realpath(v.path, cb),
        (p) => answer(toVirtual(v.host, p)),
      );
    })();
  });

  sftp.on('READLINK', (id, path) => {
    void (async () => {
      const v = resolveVirtual(path);
      if (invalid(id, v)) return;
      if (v.kind !== 'target') return reply(id, { code: STATUS.FAILURE, message: `${describe(v)} is not a link` });
      const t = await target(v.host, 'list');
      if (!(t instanceof Target)) return reply(id, t);
      forward<string>(
        id,
        t,
        (cb) => t.sftp.readlink(v.path, cb),
        (p) => {
          const q = toVirtual(v.host, p);
          if (!closed) sftp.name(id, [{ filename: q, longname: q, attrs: NO_ATTRS }]);
        },
      );
    })();
  });

  /** A change to one path on a host: refused at / and /<host>, and by the transfer mode; audited. */
  const change =
    (operation: FileOperation['operation'], run: (t: Target, path: string, cb: (err?: Error | null) => void) => void) =>
    (id: number, path: string) => {
      void (async () => {
        const v = resolveVirtual(path);
        if (invalid(id, v)) return;
        if (v.kind === 'staging') {
          if (!staged) return noStaging(id);
          if (operation === 'remove') return staged.remove(id, v.path);
          if (operation === 'mkdir') return staged.mkdir(id, v.path);
          if (operation === 'rmdir') return staged.rmdir(id, v.path);
          return ok(id); // setstat: S3 objects keep no mode or times
        }
        if (v.kind !== 'target') {
          const s = { code: STATUS.PERMISSION_DENIED, message: notHere(v) };
          record(v, operation, s);
          return reply(id, s);
        }
        const t = await target(v.host, 'write');
        if (!(t instanceof Target)) {
          record(v, operation, t);
          return reply(id, t);
        }
        forward<void>(
          id,
          t,
          (cb) => run(t, v.path, cb),
          () => ok(id),
          (s) => record(v, operation, s, {}, t.session),
        );
      })();
    };
  sftp.on(
    'REMOVE',
    change('remove', (t, p, cb) => t.sftp.unlink(p, cb)),
  );
  sftp.on(
    'RMDIR',
    change('rmdir', (t, p, cb) => t.sftp.rmdir(p, cb)),
  );
  sftp.on('MKDIR', (id, path, attrs) => change('mkdir', (t, p, cb) => t.sftp.mkdir(p, attrs ?? {}, cb))(id, path));
  sftp.on('SETSTAT', (id, path, attrs) => change('setstat', (t, p, cb) => t.sftp.setstat(p, attrs, cb))(id, path));

  /** Two paths on one host (rename, symlink); across hosts there is no such operation. */
  const twoPaths =
    (
      operation: 'rename' | 'symlink',
      run: (t: Target, a: string, b: string, cb: (err?: Error | null) => void) => void,
    ) =>
    (id: number, first: string, second: string, secondIsLinkTarget = false) => {
      void (async () => {
        const a = resolveVirtual(first);
        if (invalid(id, a)) return;
        // A link's target is stored as written; an absolute one in the tree is translated to the host's own path.
        let bPath: string;
        let b: VirtualPath;
        if (secondIsLinkTarget && !second.startsWith('/')) {
          if (second.includes('\0'))
            return reply(id, { code: STATUS.BAD_MESSAGE, message: 'a path may not contain a NUL byte' });
          bPath = second;
          b = a;
        } else {
          b = resolveVirtual(second);
          if (invalid(id, b)) return;
          bPath = b.kind === 'target' ? b.path : '';
        }
        if (a.kind === 'staging' || b.kind === 'staging') {
          if (!staged) return noStaging(id);
          if (operation === 'rename' && a.kind === 'staging' && b.kind === 'staging')
            return staged.rename(id, a.path, b.path);
          const s = {
            code: STATUS.OP_UNSUPPORTED,
            message: `${operation} works within /${STAGING} or within one host; to copy between them, download and upload the file`,
          };
          record(a, operation, s, { path2: describe(b) });
          return reply(id, s);
        }
        if (a.kind !== 'target' || b.kind !== 'target') {
          const s = { code: STATUS.PERMISSION_DENIED, message: notHere(a.kind !== 'target' ? a : b) };
          record(a, operation, s, { path2: second.slice(0, 4096) });
          return reply(id, s);
        }
        if (a.host !== b.host) {
          const s = {
            code: STATUS.OP_UNSUPPORTED,
            message: `${operation} works within one host; to move a file from ${a.host} to ${b.host}, download and upload it`,
          };
          record(a, operation, s, { path2: describe(b) });
          return reply(id, s);
        }
        const t = await target(a.host, 'write');
        if (!(t instanceof Target)) {
          record(a, operation, t, { path2: describe(b) });
          return reply(id, t);
        }
        forward<void>(
          id,
          t,
          (cb) => run(t, a.path, bPath, cb),
          () => ok(id),
          (s) =>
            record(a, operation, s, { path2: secondIsLinkTarget ? second.slice(0, 4096) : describe(b) }, t.session),
        );
      })();
    };
  sftp.on('RENAME', (id, from, to) => twoPaths('rename', (t, a, b, cb) => t.sftp.rename(a, b, cb))(id, from, to));
  // ssh2 hands SYMLINK over as (link path, target path) whichever order the client used (OpenSSH swaps them).
  sftp.on('SYMLINK', (id, linkPath: string, targetPath: string) =>
    twoPaths('symlink', (t, link, to, cb) => t.sftp.symlink(to, link, cb))(id, linkPath, targetPath, true),
  );

  // ---- the end ---------------------------------------------------------------------

  const close = () => {
    if (closed) return;
    closed = true;
    for (const h of handles.values()) {
      if (h.kind === 'hosts') continue;
      h.target.sftp.close(h.th, () => {});
      if (h.kind === 'file') finishFile(h, null, 'incomplete');
    }
    handles.clear();
    staged?.closeAll();
    pool.closeAll('client left');
  };
  sftp.on('close', close);
  // The client is done (EOF on its channel): close ours too, or it waits for us.
  sftp.on('end', () => {
    close();
    endWithStatus(sftp, 0);
  });
  sftp.on('error', (err: Error) => {
    log.info({ user, err: err.message }, 'sftp channel error');
    close();
  });
  pool.onLost = (t: Target) => {
    // Transfers on a target that went away are incomplete; their handles answer CONNECTION_LOST from now on.
    for (const [n, h] of handles) {
      if (h.kind !== 'hosts' && h.target === t) {
        handles.delete(n);
        lost.set(n, `the connection to ${t.host} was lost; open the file again`);
        if (h.kind === 'file') finishFile(h, `the connection to ${t.host} was lost`, 'incomplete');
      }
    }
  };
  return {
    close: () => {
      close();
      endWithStatus(sftp, 0);
    },
  };
}

/**
 * Ends the channel as sshd ends a subsystem: exit-status, EOF, close. ssh2's
 * SFTP object has no exit(); without the status scp reports "Exit status -1"
 * and exits 1 after a good transfer. Private API, covered by the scp e2e test.
 */
function endWithStatus(sftp: SFTPWrapper, code: number): void {
  const ch = sftp as unknown as {
    outgoing?: { id: number; state: string };
    _protocol?: { exitStatus(id: number, code: number): void; channelEOF(id: number): void };
  };
  if (ch.outgoing?.state === 'open' && ch._protocol) {
    ch._protocol.exitStatus(ch.outgoing.id, code);
    ch._protocol.channelEOF(ch.outgoing.id);
  }
  sftp.end();
}
