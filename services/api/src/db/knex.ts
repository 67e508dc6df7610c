// Postgres through knex. Migrations are imported statically (not globbed from
// disk) so a bundled build carries them.
import knexFactory, { type Knex } from 'knex';
import * as m001 from './migrations/001_schema.js';
import * as m002 from './migrations/002_session_indexes.js';
import * as m003 from './migrations/003_hop_tickets.js';
import * as m004 from './migrations/004_enrolment_binding.js';
import * as m005 from './migrations/005_ticket_keys_policy_version.js';
import * as m006 from './migrations/006_file_operations.js';
import * as m008 from './migrations/008_desktop.js';
import * as m009 from './migrations/009_database_rights.js';
import * as m010 from './migrations/010_devices.js';
import * as m011 from './migrations/011_host_key_policy_version.js';

const MIGRATIONS: Record<string, Knex.Migration> = {
  '001_schema': m001,
  '002_session_indexes': m002,
  '003_hop_tickets': m003,
  '004_enrolment_binding': m004,
  '005_ticket_keys_policy_version': m005,
  '006_file_operations': m006,
  '008_desktop': m008,
  '009_database_rights': m009,
  '010_devices': m010,
  '011_host_key_policy_version': m011,
};

export type Db = Knex;

const quiet = () => {};

export function createDb(url: string, pool = { min: 0, max: 10 }): Db {
  return knexFactory({
    client: 'pg',
    connection: {
      connectionString: url,
      connectionTimeoutMillis: 3000,
      statement_timeout: 10_000,
      application_name: 'jmp-api',
    } as Knex.PgConnectionConfig,
    pool: {
      ...pool,
      acquireTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      // Named (hot-path) statements use their generic plan from the first call
      // instead of re-planning five times per connection. Unnamed queries are unaffected.
      afterCreate: (
        conn: { query: (sql: string, cb: (err: Error | null) => void) => void },
        done: (err: Error | null, conn: unknown) => void,
      ) => {
        conn.query('SET plan_cache_mode = force_generic_plan', (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: 3000,
    // knex prints connection errors to the console on every attempt; outages
    // are reported once by DbHealth instead, and query errors reach the caller.
    log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet },
  });
}

export async function migrate(db: Db, uidBase?: number): Promise<void> {
  await db.migrate.latest({
    migrationSource: {
      getMigrations: async () => Object.keys(MIGRATIONS).sort(),
      getMigrationName: (name: string) => name,
      getMigration: async (name: string) => MIGRATIONS[name]!,
    },
  });
  if (uidBase !== undefined) {
    // The uid base may only move while no user has been given a uid: uids are forever.
    const { rows } = await db.raw(`SELECT count(*)::int AS n FROM users`);
    if (rows[0].n === 0) await db.raw(`ALTER SEQUENCE jmp_uid_seq RESTART WITH ${Math.trunc(uidBase)}`);
  }
}
