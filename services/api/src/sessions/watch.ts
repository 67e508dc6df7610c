// Watching a live session: the watcher's polls keep a "watched" key alive;
// heartbeats tell jmp-ssh which of its sessions are watched; jmp-ssh then
// sends their output, which waits here (in the shared store, so any jmp-api
// answers) for a minute under a growing sequence number. Output only: nothing
// here can reach the session's input.
import type { Store } from '../store/store.js';

/** A watch ends this long after the watcher's last poll. */
export const WATCH_TTL_MS = 10_000;
/** How long output waits for a watcher's poll. */
const OUTPUT_TTL_MS = 60_000;
/** At most this many pieces per poll. */
const MAX_CHUNKS = 256;

const watchKey = (id: string) => `session-watch:${id}`;
const seqKey = (id: string) => `session-out-seq:${id}`;
const outKey = (id: string, n: number) => `session-out:${id}:${n}`;

/** Starts or renews a watch; true when it was not being watched (a new watch, to audit). */
export const watch = (store: Store, id: string): Promise<boolean> =>
  store.setIfAbsent(watchKey(id), '1', WATCH_TTL_MS).then(async (fresh) => {
    if (!fresh) await store.expire(watchKey(id), WATCH_TTL_MS);
    return fresh;
  });

export async function watchedAmong(store: Store, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const v = await store.getMany(ids.map(watchKey));
  return ids.filter((_, i) => v[i] !== null);
}

export async function pushOutput(store: Store, id: string, chunks: string[]): Promise<void> {
  for (const c of chunks) {
    const n = await store.increment(seqKey(id), OUTPUT_TTL_MS);
    await store.set(outKey(id, n), c, OUTPUT_TTL_MS);
  }
}

/** Output after `after` (a cursor from a previous answer; none at first: from now on). */
export async function readOutput(
  store: Store,
  id: string,
  after: number | undefined,
): Promise<{ chunks: string[]; next: number }> {
  const last = Number((await store.get(seqKey(id))) ?? 0);
  if (after === undefined || after > last) return { chunks: [], next: last };
  const from = Math.max(after + 1, last - MAX_CHUNKS + 1);
  const keys = [];
  for (let n = from; n <= last; n++) keys.push(outKey(id, n));
  const got = keys.length ? await store.getMany(keys) : [];
  return { chunks: got.filter((c): c is string => c !== null), next: last };
}
