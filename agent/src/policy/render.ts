// The NSS cache files libnss_jmp reads: passwd(5) and group(5) lines from a
// policy snapshot. Pure. No field may carry ':' or a line break (it would
// shift or forge entries), so names are checked, GECOS is cleaned, and a user
// or group that cannot be written safely is skipped and reported. A jmp user
// or group never shares a name or id with a local account or group (the
// files source): it is left out, so it cannot become or join a local one.
import type { PolicySnapshot } from '@jmp/contract/schemas/agents';
import { NO_LOCAL_ACCOUNTS, type LocalAccounts } from '../local/accounts.js';

const NAME_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const MAX_ID = 4_294_967_294; // (uid_t)-1 is "no id"
// Anything that is not printable ASCII or is ':' — and ',' in member lists.
const UNSAFE_RE = /[\u0000-\u001f\u007f:]/g;

export interface RenderOptions {
  /** Users and groups with a smaller id are refused (a snapshot never makes anyone root). */
  minId: number;
  /** The host's own accounts (/etc/passwd, /etc/group); none when absent. */
  local?: LocalAccounts;
}

export interface RenderedNss {
  passwd: string;
  group: string;
  users: number;
  groups: number;
  /** Why entries were left out; for the log. */
  skipped: string[];
}

/** GECOS without ':' or control characters, at most 256 characters. */
export function cleanGecos(s: string): string {
  return s.replace(UNSAFE_RE, ' ').replace(/\s+/g, ' ').trim().slice(0, 256);
}

function validId(n: number, minId: number): boolean {
  return Number.isInteger(n) && n >= minId && n <= MAX_ID;
}

function validPath(s: string): boolean {
  return s.startsWith('/') && s.length <= 4096 && !/[\u0000-\u001f\u007f:]/.test(s);
}

export function renderNss(snapshot: Pick<PolicySnapshot, 'users' | 'groups'>, opts: RenderOptions): RenderedNss {
  const local = opts.local ?? NO_LOCAL_ACCOUNTS;
  const skipped: string[] = [];
  const passwd: string[] = [];
  const userNames = new Set<string>();
  const uids = new Set<number>();
  const rendered: { username: string; gid: number; groups: string[] }[] = [];
  const clashing = new Set<string>(); // jmp users left out because of a local account

  for (const u of snapshot.users) {
    const why = !NAME_RE.test(u.username)
      ? 'bad user name'
      : userNames.has(u.username)
        ? 'duplicate user name'
        : !validId(u.uid, opts.minId)
          ? `uid ${u.uid} out of range`
          : uids.has(u.uid)
            ? `duplicate uid ${u.uid}`
            : !validId(u.gid, opts.minId)
              ? `gid ${u.gid} out of range`
              : !validPath(u.home)
                ? 'bad home directory'
                : !validPath(u.shell)
                  ? 'bad shell'
                  : local.users.has(u.username)
                    ? 'a local account has this name'
                    : local.uids.has(u.uid)
                      ? `uid ${u.uid} belongs to local account ${local.uids.get(u.uid)}`
                      : null;
    if (why) {
      skipped.push(`user ${JSON.stringify(u.username).slice(0, 40)}: ${why}`);
      if (local.users.has(u.username) || local.uids.has(u.uid)) clashing.add(u.username);
      continue;
    }
    userNames.add(u.username);
    uids.add(u.uid);
    passwd.push(`${u.username}:*:${u.uid}:${u.gid}:${cleanGecos(u.gecos)}:${u.home}:${u.shell}`);
    rendered.push({ username: u.username, gid: u.gid, groups: u.groups });
  }

  // Snapshot groups first: they win a name or gid clash with a private group.
  const groupLines: string[] = [];
  const groupNames = new Set<string>();
  const gids = new Set<number>();
  const shared: string[] = [];
  for (const g of snapshot.groups) {
    const why = !NAME_RE.test(g.name)
      ? 'bad group name'
      : groupNames.has(g.name)
        ? 'duplicate group name'
        : !validId(g.gid, opts.minId)
          ? `gid ${g.gid} out of range`
          : gids.has(g.gid)
            ? `duplicate gid ${g.gid}`
            : local.groups.has(g.name)
              ? 'a local group has this name'
              : local.gids.has(g.gid)
                ? `gid ${g.gid} belongs to local group ${local.gids.get(g.gid)}`
                : null;
    if (why) {
      skipped.push(`group ${JSON.stringify(g.name).slice(0, 40)}: ${why}`);
      continue;
    }
    groupNames.add(g.name);
    gids.add(g.gid);
    // A local account is never made a member of a jmp group, nor is a jmp user left out for one.
    const members = new Set(g.members.filter((m) => NAME_RE.test(m) && !local.users.has(m) && !clashing.has(m)));
    for (const u of rendered) if (u.groups.includes(g.name)) members.add(u.username);
    shared.push(`${g.name}:*:${g.gid}:${[...members].join(',')}`);
  }
  for (const u of rendered) {
    if (groupNames.has(u.username) || gids.has(u.gid)) {
      skipped.push(`private group of ${u.username}: its name or gid ${u.gid} is taken by another group`);
      continue;
    }
    if (local.groups.has(u.username) || local.gids.has(u.gid)) {
      skipped.push(`private group of ${u.username}: its name or gid ${u.gid} is a local group`);
      continue;
    }
    groupNames.add(u.username);
    gids.add(u.gid);
    groupLines.push(`${u.username}:*:${u.gid}:`);
  }
  groupLines.push(...shared);
  return {
    passwd: passwd.map((l) => l + '\n').join(''),
    group: groupLines.map((l) => l + '\n').join(''),
    users: passwd.length,
    groups: groupLines.length,
    skipped,
  };
}
