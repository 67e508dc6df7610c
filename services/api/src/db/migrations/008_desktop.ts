// Desktops (jmp-rdp): the RDP port of a host, and per service whether the
// clipboard and drive redirection are on. A null clipboard follows the host:
// off on production (online) hosts, on elsewhere.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('hosts', (t) => {
    t.integer('rdp_port').notNullable().defaultTo(3389);
  });
  await knex.raw('ALTER TABLE hosts ADD CONSTRAINT hosts_rdp_port CHECK (rdp_port BETWEEN 1 AND 65535)');
  await knex.schema.alterTable('services', (t) => {
    t.boolean('rdp_clipboard');
    t.boolean('rdp_drive').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('services', (t) => {
    t.dropColumn('rdp_drive');
    t.dropColumn('rdp_clipboard');
  });
  await knex.schema.alterTable('hosts', (t) => {
    t.dropColumn('rdp_port');
  });
}
