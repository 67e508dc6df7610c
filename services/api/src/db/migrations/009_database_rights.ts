// Database rights (DESIGN flow 9): mariadb_read|write|admin and
// redis_read|write|admin, granted and requested like login and root. The
// names no longer fit eight characters, and the grants check gains them
// (rebuilt from its current text, so values other migrations add are kept).
import type { Knex } from 'knex';

const RIGHTS = ['mariadb_read', 'mariadb_write', 'mariadb_admin', 'redis_read', 'redis_write', 'redis_admin'];
const TABLES = ['grants', 'access_requests', 'request_policies'];

async function rightsCheck(knex: Knex): Promise<Set<string>> {
  const r = await knex.raw<{ rows: Array<{ def: string }> }>(
    `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
      WHERE t.relname = 'grants' AND c.conname = 'grants_right'`,
  );
  return new Set([...(r.rows[0]?.def ?? '').matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!));
}

async function setRightsCheck(knex: Knex, values: Set<string>): Promise<void> {
  const list = [...values].map((v) => `'${v}'`).join(',');
  await knex.raw('ALTER TABLE grants DROP CONSTRAINT IF EXISTS grants_right');
  await knex.raw(`ALTER TABLE grants ADD CONSTRAINT grants_right CHECK ("right" IN (${list}))`);
}

export async function up(knex: Knex): Promise<void> {
  for (const t of TABLES) await knex.raw(`ALTER TABLE ?? ALTER COLUMN "right" TYPE varchar(16)`, [t]);
  const values = await rightsCheck(knex);
  for (const r of RIGHTS) values.add(r);
  await setRightsCheck(knex, values);
}

export async function down(knex: Knex): Promise<void> {
  for (const t of TABLES) await knex(t).whereIn('right', RIGHTS).delete();
  const values = await rightsCheck(knex);
  for (const r of RIGHTS) values.delete(r);
  await setRightsCheck(knex, values);
}
