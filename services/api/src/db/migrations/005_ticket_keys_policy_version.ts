// A ticket key rotation changes every host's snapshot (its published keys):
// it bumps the policy version like any access-relevant write, so cached
// snapshot versions (agents/snapshot-cache.ts) and agents see it at once.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TRIGGER ticket_keys_policy_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ticket_keys
    FOR EACH STATEMENT EXECUTE FUNCTION jmp_bump_policy_version()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS ticket_keys_policy_version ON ticket_keys');
}
