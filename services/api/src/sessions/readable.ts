// Who may read a session (its detail, commands and recording): its own person,
// admins and auditors. Someone else's session is "not found", so its id says nothing.
import type { Knex } from 'knex';
import { JmpError } from '@jmp/contract';
import type { SessionUser } from '../http/auth.js';
import { sessionState, type SessionState } from './repository.js';

export function maySeeSession(user: SessionUser, ownerId: number | null): boolean {
  return user.isAdmin || user.isAuditor || ownerId === user.id;
}

/** The session's state for `user`, or `not_found` when there is none or it is not theirs to see. */
export async function readableSession(db: Knex, id: string, user: SessionUser): Promise<SessionState> {
  const row = await sessionState(db, id);
  if (!row || !maySeeSession(user, row.userId)) throw new JmpError('not_found', `no session ${id}`);
  return row;
}
