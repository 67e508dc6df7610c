// Knex queries for desktops: the target a token names and its service's policy.
import type { Knex } from 'knex';

export interface DesktopHost {
  id: number;
  hostname: string;
  kind: string;
  state: string;
  addresses: string[];
  rdp_port: number;
  rdp_clipboard: boolean | null;
  rdp_drive: boolean | null;
}

export async function desktopHost(db: Knex, id: number): Promise<DesktopHost | undefined> {
  return db('hosts as h')
    .leftJoin('services as s', 's.id', 'h.service_id')
    .where('h.id', id)
    .first('h.id', 'h.hostname', 'h.kind', 'h.state', 'h.addresses', 'h.rdp_port', 's.rdp_clipboard', 's.rdp_drive');
}
