// Live sessions across every jmp-ssh instance, in the shared store: each
// instance renews its sessions every second; an administrator's "end this
// session" is a key the next heartbeat answers with.
import type { Store } from '../store/store.js';

const LIVE_TTL_MS = 10_000;
const END_TTL_MS = 5 * 60_000;
const liveKey = (id: string) => `session-live:${id}`;
const endKey = (id: string) => `session-end:${id}`;

export async function heartbeat(
  store: Store,
  instance: string,
  ids: string[],
): Promise<Array<{ id: string; reason: string }>> {
  if (!ids.length) return [];
  const [, ends] = await Promise.all([
    store.setMany(
      ids.map((id) => [liveKey(id), instance]),
      LIVE_TTL_MS,
    ),
    store.getMany(ids.map(endKey)),
  ]);
  return ids.flatMap((id, i) => (ends[i] ? [{ id, reason: ends[i]! }] : []));
}

export const requestEnd = (store: Store, id: string, reason: string) => store.set(endKey(id), reason, END_TTL_MS);
export const markEnded = (store: Store, id: string) => store.del(liveKey(id));
export async function liveFlags(store: Store, ids: string[]): Promise<boolean[]> {
  return (await store.getMany(ids.map(liveKey))).map((v) => v !== null);
}
