// Knex queries for login and hop tickets: the target host a ticket names, the
// hop switches of two hosts' services, a person's open sessions on a host.
// No rules here: routes.ts and hop.ts decide.
import type { Knex } from 'knex';

/** What a ticket response tells the caller about its target host. */
export interface TicketHost {
  id: number;
  hostname: string;
  addresses: string[];
  ssh_host_keys: string[];
}

export async function ticketHost(db: Knex, id: number): Promise<TicketHost | undefined> {
  return db('hosts').where({ id }).first('id', 'hostname', 'addresses', 'ssh_host_keys');
}

/** A host and its service's hop switch (both null for a host without a service). */
export interface HopSetting {
  id: number;
  hostname: string;
  service: string | null;
  hop_tickets: boolean | null;
}

/** The hop settings of the host with id `fromHostId` and of the one named `toHostname` (when it exists). */
export async function hopSettings(db: Knex, fromHostId: number, toHostname: string): Promise<HopSetting[]> {
  return db('hosts as h')
    .leftJoin('services as s', 's.id', 'h.service_id')
    .where('h.id', fromHostId)
    .orWhere('h.hostname', toHostname)
    .select('h.id', 'h.hostname', 's.name as service', 's.hop_tickets');
}

/**
 * Ids of the sessions of the person named `username` on the host that have no
 * end, newest first, at most `limit`; empty when there is no such person. Rows
 * started more than a week ago are not looked at (as for the per-person limit).
 */
export async function openSessionIdsOn(db: Knex, username: string, hostId: number, limit: number): Promise<string[]> {
  const user = await db('users').where({ username }).first('id');
  if (!user) return [];
  return (await db('sessions')
    .where({ user_id: user.id, host_id: hostId })
    .whereNull('ended_at')
    .where('started_at', '>', db.raw("now() - interval '7 days'"))
    .orderBy('started_at', 'desc')
    .limit(limit)
    .pluck('id')) as string[];
}
