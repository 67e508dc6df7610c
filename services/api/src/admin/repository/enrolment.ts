// Knex queries for enrolment tokens. Only a token's sha256 is stored; tokens
// are never edited, only revoked (the row stays).
import type { Knex } from 'knex';
import { mustGet, paged, type Page, type Paged, type Tx } from './common.js';

export interface EnrolmentTokenRow {
  id: number;
  token_hash: string;
  description: string;
  service_id: number | null;
  host_state: 'online' | 'offline';
  max_uses: number;
  uses: number;
  expires_at: Date;
  created_by: number | null;
  revoked_at: Date | null;
  created_at: Date;
}

/** Tokens matching the filter; `active` means usable at `now` (not revoked, not expired, uses left). */
export interface TokenFilter extends Page {
  serviceId?: number | undefined;
  active?: boolean | undefined;
}

export async function listTokens(db: Tx, f: TokenFilter, now: Date): Promise<Paged<EnrolmentTokenRow>> {
  const qb = db('enrolment_tokens').select('*');
  if (f.serviceId) qb.where({ service_id: f.serviceId });
  if (f.active !== undefined) {
    const usable = (w: Knex.QueryBuilder) =>
      w.whereNull('revoked_at').where('expires_at', '>', now).whereRaw('uses < max_uses');
    if (f.active) qb.where(usable);
    else qb.whereNot(usable);
  }
  return paged(qb, f, 'id');
}

export const getToken = (db: Tx, id: number): Promise<EnrolmentTokenRow> =>
  mustGet<EnrolmentTokenRow>(db, 'enrolment_tokens', id, 'enrolment token');

export async function findToken(db: Tx, id: number): Promise<EnrolmentTokenRow | undefined> {
  return db('enrolment_tokens').where({ id }).first();
}

export interface NewToken {
  tokenHash: string;
  description: string;
  serviceId: number | null;
  hostState: string;
  maxUses: number;
  expiresAt: Date;
  createdBy: number | null;
}

export async function insertToken(db: Tx, t: NewToken): Promise<EnrolmentTokenRow> {
  const [row] = await db('enrolment_tokens')
    .insert({
      token_hash: t.tokenHash,
      description: t.description,
      service_id: t.serviceId,
      host_state: t.hostState,
      max_uses: t.maxUses,
      expires_at: t.expiresAt,
      created_by: t.createdBy,
    })
    .returning('*');
  return row as EnrolmentTokenRow;
}

export async function revokeToken(db: Tx, id: number): Promise<void> {
  await db('enrolment_tokens').where({ id }).update({ revoked_at: db.fn.now() });
}
