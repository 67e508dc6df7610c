// jmp-api remembers each host's agent key (http/host-auth.ts) for as long as
// the policy version is unchanged: a new or forgotten agent key must bump it,
// like the host's name, state and service already do.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS hosts_policy_version_upd ON hosts');
  await knex.raw(
    `CREATE TRIGGER hosts_policy_version_upd AFTER UPDATE OF hostname, state, service_id, agent_public_key ON hosts FOR EACH STATEMENT EXECUTE FUNCTION jmp_bump_policy_version()`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS hosts_policy_version_upd ON hosts');
  await knex.raw(
    `CREATE TRIGGER hosts_policy_version_upd AFTER UPDATE OF hostname, state, service_id ON hosts FOR EACH STATEMENT EXECUTE FUNCTION jmp_bump_policy_version()`,
  );
}
