// Sessions are looked up per person: the live-session limit on every session
// start (open ones), and "my sessions" in the console (newest first).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX sessions_open_by_user ON sessions (user_id) WHERE ended_at IS NULL');
  await knex.raw('CREATE INDEX sessions_by_user_started ON sessions (user_id, started_at DESC)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS sessions_by_user_started');
  await knex.raw('DROP INDEX IF EXISTS sessions_open_by_user');
}
