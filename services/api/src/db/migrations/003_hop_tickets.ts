// Hop tickets (DESIGN flow 11) can be switched off per service
// (docs/decisions.md, "Hop tickets"); a session started by a hop names the
// live session it was started from.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('services', (t) => {
    t.boolean('hop_tickets').notNullable().defaultTo(true);
  });
  await knex.schema.alterTable('sessions', (t) => {
    t.uuid('parent_session_id').references('sessions.id').onDelete('SET NULL');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    t.dropColumn('parent_session_id');
  });
  await knex.schema.alterTable('services', (t) => {
    t.dropColumn('hop_tickets');
  });
}
