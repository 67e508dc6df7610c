// Private MariaDB and Redis servers for the database tests: each in its own
// temporary directory, listening on a unix socket only (no TCP), stopped by
// stop(). The machine's own servers are never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Server {
  socket: string;
  dir: string;
  stop(): Promise<void>;
}

async function waitFor(path: string, p: ChildProcess, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!existsSync(path)) {
    if (p.exitCode !== null) throw new Error(`${what} exited with ${p.exitCode} before listening`);
    if (Date.now() > until) throw new Error(`${what} did not listen on ${path} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopper(p: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (p.exitCode === null) {
      const done = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/** mariadbd with a fresh data directory; root@localhost logs in over the socket (unix_socket). */
export async function startMariadb(base = tmpdir()): Promise<Server> {
  const dir = mkdtempSync(join(base, 'jmp-mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const init = spawnSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db'],
    { encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr || init.stdout}`);
  const p = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${socket}`,
      '--skip-networking',
      '--user=root',
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${join(dir, 'error.log')}`,
      '--innodb-buffer-pool-size=16M',
    ],
    { stdio: 'ignore' },
  );
  await waitFor(socket, p, 'mariadbd');
  return { socket, dir, stop: stopper(p, dir) };
}

/** redis-server on a unix socket only, no persistence. */
export async function startRedis(base = tmpdir()): Promise<Server> {
  const dir = mkdtempSync(join(base, 'jmp-redis-'));
  const socket = join(dir, 'redis.sock');
  const p = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '777',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  await waitFor(socket, p, 'redis-server');
  return { socket, dir, stop: stopper(p, dir) };
}

/** Runs SQL as root over the socket; returns stdout (tab-separated, no headers) and the exit code. */
export function rootSql(socket: string, sql: string): { code: number | null; out: string; err: string } {
  const r = spawnSync('mariadb', ['--protocol=socket', `--socket=${socket}`, '--user=root', '-N', '-B'], {
    input: sql,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export function redisCli(socket: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync('redis-cli', ['-s', socket, ...args], { encoding: 'utf8', env });
  return (r.stdout + r.stderr).trim();
}
