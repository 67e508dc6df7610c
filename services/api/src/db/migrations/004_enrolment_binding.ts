// A pre-registered host names the one enrolment token that may claim it
// (docs/decisions.md, "Enrolment cannot take over a host"). The binding is
// cleared when the host is claimed; tokens are revoked, never deleted.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('hosts', (t) => {
    t.integer('enrolment_token_id').references('enrolment_tokens.id').onDelete('SET NULL');
  });
  await knex.raw(
    'CREATE INDEX hosts_enrolment_token ON hosts (enrolment_token_id) WHERE enrolment_token_id IS NOT NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS hosts_enrolment_token');
  await knex.schema.alterTable('hosts', (t) => {
    t.dropColumn('enrolment_token_id');
  });
}
