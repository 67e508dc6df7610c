// The host's own accounts: the "files" source of NSS (/etc/passwd, /etc/group),
// read directly so that jmp's own NSS module never answers for them. A jmp
// user must never become a local account (same name, or same id), so the
// renderer leaves such users and groups out and the agent denies logins that
// would land in a local account. Files are re-read only when they change.
import { readFileSync, statSync } from 'node:fs';

export interface LocalFiles {
  passwd: string;
  group: string;
}

export const SYSTEM_FILES: LocalFiles = { passwd: '/etc/passwd', group: '/etc/group' };

export interface LocalAccounts {
  /** name → uid */
  users: ReadonlyMap<string, number>;
  /** uid → first name with it */
  uids: ReadonlyMap<number, string>;
  /** name → gid */
  groups: ReadonlyMap<string, number>;
  /** gid → first name with it */
  gids: ReadonlyMap<number, string>;
}

export const NO_LOCAL_ACCOUNTS: LocalAccounts = {
  users: new Map(),
  uids: new Map(),
  groups: new Map(),
  gids: new Map(),
};

/** name and numeric id (third field) of each passwd(5)/group(5) line; comments, NIS "+"/"-" lines and junk skipped. */
export function parseIdFile(text: string): { byName: Map<string, number>; byId: Map<number, string> } {
  const byName = new Map<string, number>();
  const byId = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^\d{1,10}$/.test(f[2]!)) continue;
    const name = f[0]!;
    const id = Number(f[2]);
    if (!byName.has(name)) byName.set(name, id);
    if (!byId.has(id)) byId.set(id, name);
  }
  return { byName, byId };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // no such file: no local accounts of that kind
  }
}

export function readLocalAccounts(files: LocalFiles = SYSTEM_FILES): LocalAccounts {
  const pw = parseIdFile(readText(files.passwd));
  const gr = parseIdFile(readText(files.group));
  return { users: pw.byName, uids: pw.byId, groups: gr.byName, gids: gr.byId };
}

function stamp(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return 'absent';
  }
}

/** A reader that re-reads the files only when one of them was replaced or changed. */
export function localAccountsReader(files: LocalFiles = SYSTEM_FILES): () => LocalAccounts {
  let key = '';
  let value: LocalAccounts = NO_LOCAL_ACCOUNTS;
  return () => {
    const k = `${stamp(files.passwd)}|${stamp(files.group)}`;
    if (k !== key) {
      value = readLocalAccounts(files);
      key = k;
    }
    return value;
  };
}

/**
 * Why the jmp user `name` (jmp uid `uid`, or undefined when jmp does not know
 * the name) would not be itself on this host, or null when it would be.
 */
export function localShadow(local: LocalAccounts, name: string, uid: number | undefined): string | null {
  const localUid = local.users.get(name);
  if (localUid !== undefined && localUid !== uid) return `local account ${name} exists on this host`;
  if (uid !== undefined) {
    const owner = local.uids.get(uid);
    if (owner !== undefined && owner !== name)
      return `uid ${uid} of ${name} belongs to local account ${owner} on this host`;
  }
  return null;
}
