// Adding and removing a person's SSH public keys: one code path for the
// administrator's routes (/v1/users/:id/keys) and the person's own (/v1/me/keys).
import { JmpError } from '@jmp/contract';
import type { z } from 'zod';
import type { UserKey as UserKeySchema } from '@jmp/contract/schemas/admin';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';
import type { Principal } from '../http/auth.js';
import type { Ctx } from '../context.js';
import { audit, badField, isoNN, write } from './crud.js';
import * as repo from './repository/users.js';

type UserKey = z.infer<typeof UserKeySchema>;

const KEY_HINTS = {
  user_ssh_keys_user_id_fingerprint_unique: ['body.publicKey', 'this key is already registered for this user'],
} as Record<string, [string, string]>;

export const toKey = (r: repo.UserKeyRow): UserKey => ({
  id: r.id,
  userId: r.user_id,
  publicKey: r.public_key,
  fingerprint: r.fingerprint,
  comment: r.comment,
  createdAt: isoNN(r.created_at),
});

export async function listUserKeys(ctx: Ctx, userId: number): Promise<UserKey[]> {
  await repo.getUser(ctx.db, userId);
  return (await repo.listKeys(ctx.db, userId)).map(toKey);
}

export async function addUserKey(
  ctx: Ctx,
  principal: Principal,
  userId: number,
  body: { publicKey: string; comment?: string | undefined },
): Promise<UserKey> {
  const key = parseSshPublicKey(body.publicKey);
  if (typeof key === 'string') throw badField('body.publicKey', key);
  return write(ctx, KEY_HINTS, async (trx) => {
    const cur = await repo.getUser(trx, userId);
    const row = await repo.insertKey(trx, {
      userId,
      publicKey: key.line,
      fingerprint: key.fingerprint,
      comment: (body.comment ?? key.comment).slice(0, 256),
    });
    await audit(trx, principal, 'user.key_added', `user:${cur.username}`, {
      keyId: row.id,
      type: key.type,
      fingerprint: key.fingerprint,
    });
    return toKey(row);
  });
}

export async function removeUserKey(ctx: Ctx, principal: Principal, userId: number, keyId: number): Promise<void> {
  await write(ctx, {}, async (trx) => {
    const cur = await repo.getUser(trx, userId);
    const key = await repo.findKey(trx, userId, keyId);
    if (!key) throw new JmpError('not_found', `user ${cur.username} has no SSH key with id ${keyId}`);
    await repo.deleteKey(trx, key.id);
    await audit(trx, principal, 'user.key_removed', `user:${cur.username}`, {
      keyId: key.id,
      fingerprint: key.fingerprint,
    });
  });
}
