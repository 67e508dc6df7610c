// Knex queries for host agents: spending an enrolment token's use and the
// status an agent reports. No rules here: routes.ts and enrol.ts decide.
import type { Knex } from 'knex';
import type { EnrolToken } from './enrol.js';

/**
 * Spends one use of the token with this sha256, atomically; an expired,
 * revoked or used-up token matches nothing. The lookup is by the hash (unique
 * index): the secret itself is never compared.
 */
export async function consumeEnrolmentToken(trx: Knex.Transaction, tokenHash: string): Promise<EnrolToken | undefined> {
  const [token] = await trx('enrolment_tokens')
    .where({ token_hash: tokenHash })
    .whereNull('revoked_at')
    .where('expires_at', '>', trx.fn.now())
    .whereRaw('uses < max_uses')
    .increment('uses', 1)
    .returning(['id', 'service_id', 'host_state']);
  return token as EnrolToken | undefined;
}

/** What a host's last batch of events says about its agent. */
export interface AgentStatus {
  degraded: boolean;
  lastEvent: string | undefined;
  at: string;
}

/** Stores the agent's status and marks the host seen now. */
export async function recordAgentStatus(db: Knex, hostId: number, status: AgentStatus): Promise<void> {
  await db('hosts')
    .where({ id: hostId })
    // Merged: the version LastSeen records stays.
    .update({ agent_status: db.raw('agent_status || ?::jsonb', [JSON.stringify(status)]), last_seen_at: db.fn.now() });
}
