// decide() over loaded facts, with the sentences a person sees when the user
// or host does not exist.
import type { Right } from '@jmp/contract/schemas/primitives';
import type { Db } from '../db/knex.js';
import { decide, type Decision } from './decide.js';
import type { Facts } from './facts.js';
import { cachedFacts } from './facts-cache.js';

export interface Checked {
  decision: Decision;
  facts: Facts;
}

export async function checkAccess(
  db: Db,
  username: string,
  host: number | string,
  right: Right,
  now = new Date(),
): Promise<Checked> {
  const facts = await cachedFacts(db, username, host);
  if (!facts.user)
    return { facts, decision: { allow: false, reason: `unknown user ${username}`, via: { kind: 'none' } } };
  if (!facts.host) return { facts, decision: { allow: false, reason: `unknown host ${host}`, via: { kind: 'none' } } };
  return { facts, decision: decide(facts.user, facts.host, right, facts.roles, facts.grants, now) };
}
