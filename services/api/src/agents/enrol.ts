// Which host row an enrolment may write (docs/decisions.md, "Enrolment cannot
// take over a host"). A token creates a new host in its own service, or claims
// the one not yet enrolled Linux host of its service that an administrator
// bound to it. Registered SSH host keys are never replaced, another service's
// host never touched; every refusal is a 409 that says what an administrator
// has to do.
import type { Knex } from 'knex';
import { JmpError } from '@jmp/contract';
import { translate } from '../admin/crud.js';

/** The consumed enrolment token: its id, its service (chosen by the admin, never the agent), the new host's state. */
export interface EnrolToken {
  id: number;
  service_id: number | null;
  host_state: string;
}
export interface Enrolment {
  hostname: string;
  addresses: string[];
  sshHostKeys: string[];
  agentPublicKey: string;
}
export interface Enrolled {
  hostId: number;
  claimed: boolean;
}

interface HostRow {
  id: number;
  service_id: number | null;
  kind: string;
  ssh_host_keys: string[];
  agent_public_key: string | null;
  enrolment_token_id: number | null;
}

/** Only Linux hosts run jmp-agent; Windows hosts and network devices never enrol. */
export const ENROLLABLE_KINDS: readonly string[] = ['linux'];

/** Why `token` may not claim the existing host `h`, or null when it may. */
export function claimRefusal(h: HostRow, hostname: string, token: EnrolToken, presentedKeys: string[]): string | null {
  if (h.service_id !== token.service_id) {
    return `host ${hostname} is registered in another service; this enrolment token cannot enrol it (choose another host name)`;
  }
  if (!ENROLLABLE_KINDS.includes(h.kind)) return `host ${hostname} is a ${h.kind} host; only linux hosts enrol`;
  if (h.agent_public_key) {
    return `host ${hostname} is already enrolled; an administrator must reset its enrolment before it can enrol again`;
  }
  if (h.enrolment_token_id !== token.id) {
    return (
      `host ${hostname} is already registered; an administrator must bind this enrolment token to it ` +
      `(enrolmentTokenId) before it can enrol`
    );
  }
  const missing = h.ssh_host_keys.filter((k) => !presentedKeys.includes(k));
  if (missing.length > 0) {
    return (
      `host ${hostname} presents SSH host keys other than the registered ones; ` +
      'an administrator must correct them (PATCH /v1/hosts/:id) before it can enrol'
    );
  }
  return null;
}

/** Creates or claims the host inside the transaction that consumed the token. */
export async function enrolHost(trx: Knex.Transaction, token: EnrolToken, e: Enrolment): Promise<Enrolled> {
  const now = trx.fn.now();
  const existing: HostRow | undefined = await trx('hosts')
    .where({ hostname: e.hostname })
    .forUpdate()
    .first('id', 'service_id', 'kind', 'ssh_host_keys', 'agent_public_key', 'enrolment_token_id');
  if (existing) {
    const refusal = claimRefusal(existing, e.hostname, token, e.sshHostKeys);
    if (refusal) throw new JmpError('conflict', refusal);
    // Registered keys stay as the administrator wrote them; an empty list is filled in.
    const keys = existing.ssh_host_keys.length > 0 ? existing.ssh_host_keys : e.sshHostKeys;
    await trx('hosts')
      .where({ id: existing.id })
      .update({
        addresses: JSON.stringify(e.addresses),
        ssh_host_keys: JSON.stringify(keys),
        agent_public_key: e.agentPublicKey,
        enrolled_at: now,
        last_seen_at: now,
        enrolment_token_id: null,
      });
    return { hostId: existing.id, claimed: true };
  }
  try {
    const [row] = await trx('hosts')
      .insert({
        hostname: e.hostname,
        kind: 'linux',
        state: token.host_state,
        service_id: token.service_id,
        addresses: JSON.stringify(e.addresses),
        ssh_host_keys: JSON.stringify(e.sshHostKeys),
        agent_public_key: e.agentPublicKey,
        enrolled_at: now,
        last_seen_at: now,
      })
      .returning('id');
    return { hostId: row.id as number, claimed: false };
  } catch (err) {
    // Two enrolments of one new name at once: the second is refused, never merged.
    throw translate(err, {
      hosts_hostname_unique: ['body.hostname', `host ${e.hostname} was registered at the same time; try again`],
    });
  }
}
