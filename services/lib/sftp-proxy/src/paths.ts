// The virtual tree a person sees: `/` lists her hosts, `/<host>/<path>` is
// <path> on that host. Pure: every path a client sends is resolved here,
// lexically, before anything reaches a target, so `..` can never leave the
// host named in the path and a NUL byte never reaches a target's sshd.

/** Where a client's path points. */
export type VirtualPath =
  | { kind: 'root' }
  /** `/<host>` itself: a synthetic directory (mode 0555). */
  | { kind: 'host'; host: string }
  /** A path on a host: absolute, or relative to the person's home there (`/<host>/~/…`). */
  | { kind: 'target'; host: string; path: string }
  /** `/~staging/<path>`: the person's staging area (path '' is its top). */
  | { kind: 'staging'; path: string }
  | { kind: 'invalid'; reason: string };

/** Longest path accepted from a client (PATH_MAX on Linux). */
export const MAX_PATH_BYTES = 4096;
/** The staging area's name in the tree (and its `host` in the audit). */
export const STAGING = '~staging';
/** The same rule jmp-api applies to host names: nothing else can name a host. */
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/**
 * Resolves a client's path. The working directory is always `/` (`realpath .`
 * answers `/`), so a relative path is taken from the root. `.` and `..` are
 * resolved within the virtual tree; `..` at the root stays at the root, as in
 * POSIX, so `/h1/../../etc` is `/etc` (a host named etc), never a path on h1.
 */
export function resolveVirtual(input: string): VirtualPath {
  if (input.includes('\0')) return { kind: 'invalid', reason: 'a path may not contain a NUL byte' };
  if (Buffer.byteLength(input) > MAX_PATH_BYTES)
    return { kind: 'invalid', reason: `a path may be at most ${MAX_PATH_BYTES} bytes` };
  const parts: string[] = [];
  for (const seg of input.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  const [host, ...rest] = parts;
  if (host === undefined) return { kind: 'root' };
  if (host === STAGING) return { kind: 'staging', path: rest.join('/') };
  if (!HOST_NAME.test(host)) return { kind: 'invalid', reason: `${JSON.stringify(host)} is not a host name` };
  if (rest.length === 0) return { kind: 'host', host };
  const first = rest[0]!;
  if (first === '~') return { kind: 'target', host, path: rest.length === 1 ? '.' : rest.slice(1).join('/') };
  if (first.startsWith('~'))
    return {
      kind: 'invalid',
      reason: `${first} paths are not supported: use /${host}/~ for your own home, or the full path`,
    };
  return { kind: 'target', host, path: `/${rest.join('/')}` };
}

/** The virtual path of a path a target answered (realpath, readlink): absolute ones are placed under `/<host>`. */
export function toVirtual(host: string, targetPath: string): string {
  if (!targetPath.startsWith('/')) return targetPath;
  return targetPath === '/' ? `/${host}` : `/${host}${targetPath}`;
}

/** Printable form of a resolved path, for status messages and the audit. */
export function describe(v: VirtualPath): string {
  switch (v.kind) {
    case 'root':
      return '/';
    case 'host':
      return `/${v.host}`;
    case 'target':
      return v.path.startsWith('/') ? `/${v.host}${v.path}` : `/${v.host}/~/${v.path === '.' ? '' : v.path}`;
    case 'staging':
      return v.path ? `/${STAGING}/${v.path}` : `/${STAGING}`;
    case 'invalid':
      return '(invalid)';
  }
}
