// `jmp-agent db mariadb|redis [-- CLIENT ARGS]`: the database terminal of a
// jmp session, run as the person. The daemon (over its socket, which knows
// the caller by SO_PEERCRED) says whether she has a right and, for Redis,
// hands out the session's ACL user; the secret goes to redis-cli through its
// environment, never argv or disk, and the user is given back at the end.
// MariaDB logs her in as herself over the local socket (unix_socket), with
// --sandbox and --safe-updates. Without a terminal (jmp-ssh's guarded
// database sessions feed whole statements), the clients run line by line and
// go on after an error.
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { allowFlags, UsageError, type ParsedArgs } from './args.js';
import { askAgent } from './client.js';
import { configFor, stdio, type Io } from './context.js';
import type { AgentConfig } from '../config.js';

export const DB_USAGE = 'usage: jmp-agent db mariadb|redis [-- CLIENT ARGS]';

export async function dbCommand(args: ParsedArgs, io: Io = stdio, argv = process.argv): Promise<number> {
  allowFlags(args, []);
  const kind = args.positional[0];
  if (kind !== 'mariadb' && kind !== 'redis') throw new UsageError(DB_USAGE);
  const dashes = argv.indexOf('--');
  const extra = dashes >= 0 ? argv.slice(dashes + 1) : [];
  const config = configFor(args);
  const name = kind === 'mariadb' ? 'MariaDB' : 'Redis';
  const r = await askAgent(config.socket.path, { op: 'db', kind, action: 'open' }, 5000).catch((err: Error) => ({
    status: 'error' as const,
    reason: err.message,
  }));
  if (r.status !== 'db') {
    io.err(`jmp: no ${name} session: ${'reason' in r && r.reason ? r.reason : r.status}`);
    return 1;
  }
  const tty = process.stdin.isTTY === true;
  if (kind === 'mariadb') return run(config.db.mariadb.client, mariadbArgs(config, tty, extra), process.env);
  const env = { ...process.env, REDISCLI_AUTH: r.secret ?? '' };
  try {
    return await run(config.db.redis.client, redisArgs(config, r.user, tty, extra), env);
  } finally {
    await askAgent(config.socket.path, { op: 'db', kind, action: 'close', user: r.user }, 5000).catch(() => {});
  }
}

export function mariadbArgs(config: AgentConfig, tty: boolean, extra: readonly string[]): string[] {
  return [
    '--protocol=socket',
    `--socket=${config.db.mariadb.socket}`,
    `--user=${userInfo().username}`,
    '--sandbox',
    '--safe-updates',
    // Fed by jmp-ssh's guard: tables as on a terminal, each statement's result at once, on after an error.
    ...(tty ? [] : ['--table', '--unbuffered', '--force']),
    ...extra,
  ];
}

export function redisArgs(config: AgentConfig, user: string, tty: boolean, extra: readonly string[]): string[] {
  return ['-s', config.db.redis.socket, '--user', user, '--no-auth-warning', ...(tty ? [] : ['--no-raw']), ...extra];
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: 'inherit', env });
    // Ctrl-C on a terminal reaches the client (same process group); it decides what it means.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    p.on('error', (err) => {
      process.stderr.write(`jmp: cannot run ${bin}: ${err.message}\n`);
      resolve(127);
    });
    p.on('close', (code, signal) => {
      process.removeListener('SIGINT', ignore);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
