// What the MariaDB accounts of jmp users must become, as SQL: one role per
// level (jmp_read, jmp_write, jmp_admin) holding that level's privileges on
// every non-system database, and per person `name@localhost IDENTIFIED VIA
// unix_socket` with her level's role as default role. An account is jmp's when
// it holds a jmp_* role; one that exists without it belongs to the DBA and is
// never touched. Pure: the current state in, statements out.
export type DbLevel = 'read' | 'write' | 'admin';

const READ = ['SELECT', 'SHOW VIEW'];
const WRITE = [...READ, 'INSERT', 'UPDATE', 'DELETE', 'CREATE TEMPORARY TABLES', 'LOCK TABLES', 'EXECUTE'];
const ADMIN = [
  ...WRITE,
  'CREATE',
  'ALTER',
  'DROP',
  'INDEX',
  'REFERENCES',
  'CREATE VIEW',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'EVENT',
  'TRIGGER',
];
export const LEVEL_PRIVILEGES: Readonly<Record<DbLevel, readonly string[]>> = {
  read: READ,
  write: WRITE,
  admin: ADMIN,
};
export const ROLE: Readonly<Record<DbLevel, string>> = { read: 'jmp_read', write: 'jmp_write', admin: 'jmp_admin' };
/** Schemas no jmp role gets: the server's own (its accounts and their hashes live in mysql). */
export const SYSTEM_SCHEMAS = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

/** Accounts of the server itself: never created, changed or dropped, whatever the snapshot says. */
export const RESERVED_ACCOUNTS = new Set(['root', 'mysql', 'mariadb.sys', 'debian-sys-maint', '']);

export interface MariadbState {
  /** Every account name at host localhost. */
  localUsers: ReadonlySet<string>;
  /** jmp_* roles held by localhost accounts: user → roles. */
  jmpRoles: ReadonlyMap<string, readonly string[]>;
  databases: readonly string[];
}

export interface Plan {
  sql: string[];
  /** Accounts whose rights shrank or went: their open connections are ended. */
  reduced: string[];
  /** Accounts that exist but are not jmp's (skipped, reported). */
  foreign: string[];
}

export const quoteName = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
export const quoteIdent = (s: string): string => `\`${s.replace(/`/g, '``')}\``;
const account = (u: string) => `${quoteName(u)}@'localhost'`;
const rank = (l: DbLevel) => ['read', 'write', 'admin'].indexOf(l);

export function planMariadb(state: MariadbState, desired: ReadonlyMap<string, DbLevel>): Plan {
  const sql: string[] = [];
  const reduced: string[] = [];
  const foreign: string[] = [];
  for (const level of ['read', 'write', 'admin'] as const) {
    const role = ROLE[level];
    sql.push(`CREATE ROLE IF NOT EXISTS ${role}`);
    for (const db of state.databases) {
      if (SYSTEM_SCHEMAS.has(db.toLowerCase())) continue;
      sql.push(`GRANT ${LEVEL_PRIVILEGES[level].join(', ')} ON ${quoteIdent(db)}.* TO ${role}`);
    }
  }
  for (const [user, level] of [...desired].sort(([a], [b]) => a.localeCompare(b))) {
    const held = state.jmpRoles.get(user) ?? [];
    if (RESERVED_ACCOUNTS.has(user) || (state.localUsers.has(user) && held.length === 0)) {
      foreign.push(user);
      continue;
    }
    const role = ROLE[level];
    if (!state.localUsers.has(user)) sql.push(`CREATE USER ${account(user)} IDENTIFIED VIA unix_socket`);
    for (const r of held)
      if (r !== role) {
        sql.push(`REVOKE ${r} FROM ${account(user)}`);
        const was = (Object.keys(ROLE) as DbLevel[]).find((l) => ROLE[l] === r);
        if (was && rank(was) > rank(level)) reduced.push(user);
      }
    if (!held.includes(role)) sql.push(`GRANT ${role} TO ${account(user)}`);
    sql.push(`SET DEFAULT ROLE ${role} FOR ${account(user)}`);
  }
  for (const [user, roles] of state.jmpRoles) {
    if (desired.has(user) || roles.length === 0 || RESERVED_ACCOUNTS.has(user)) continue;
    sql.push(`DROP USER IF EXISTS ${account(user)}`);
    reduced.push(user);
  }
  return { sql, reduced: [...new Set(reduced)], foreign };
}
