// jmp-sftp: one row per file operation (who, host, path, operation, bytes,
// duration, result, SHA-256 of sequential uploads), and the per-service file
// transfer setting (full | download | none) that makes production download-only.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('services', (t) => {
    t.string('file_transfer', 16).notNullable().defaultTo('full');
  });
  await knex.raw(
    `ALTER TABLE services ADD CONSTRAINT services_file_transfer_check CHECK (file_transfer IN ('full', 'download', 'none'))`,
  );
  await knex.schema.createTable('file_operations', (t) => {
    t.uuid('id').primary();
    // Sessions and people may be deleted later; the names stay readable in the row.
    t.uuid('session_id').nullable().references('sessions.id').onDelete('SET NULL');
    t.string('username', 32).notNullable();
    t.string('host', 253).notNullable();
    t.text('path').notNullable();
    t.text('path2').nullable();
    t.string('operation', 16).notNullable();
    t.bigInteger('bytes_read').notNullable().defaultTo(0);
    t.bigInteger('bytes_written').notNullable().defaultTo(0);
    t.integer('duration_ms').notNullable().defaultTo(0);
    t.string('result', 16).notNullable();
    t.string('message', 512).nullable();
    t.string('sha256', 64).nullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.timestamp('stored_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // The console's filters: newest first by host, by person, by session; paths by prefix.
  await knex.raw('CREATE INDEX file_operations_host_at ON file_operations (host, at DESC)');
  await knex.raw('CREATE INDEX file_operations_user_at ON file_operations (username, at DESC)');
  await knex.raw('CREATE INDEX file_operations_session ON file_operations (session_id) WHERE session_id IS NOT NULL');
  await knex.raw('CREATE INDEX file_operations_path ON file_operations (path text_pattern_ops)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('file_operations');
  await knex.schema.alterTable('services', (t) => {
    t.dropColumn('file_transfer');
  });
}
