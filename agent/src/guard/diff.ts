// A short, content-free summary of how a guarded file changed: counts of
// lines added and removed and sizes. Never the lines themselves (a file may
// hold secrets).
export interface ChangeSummary {
  change: 'content' | 'mode' | 'deleted' | 'created' | 'content+mode';
  linesAdded: number;
  linesRemoved: number;
  bytesBefore: number | null;
  bytesAfter: number | null;
}

/** Lines in `after` not in `before` (added) and the reverse (removed), as multisets. */
export function lineDelta(before: string, after: string): { added: number; removed: number } {
  const count = new Map<string, number>();
  for (const l of before.split('\n')) count.set(l, (count.get(l) ?? 0) + 1);
  let added = 0;
  for (const l of after.split('\n')) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else added++;
  }
  let removed = 0;
  for (const n of count.values()) removed += n;
  return { added, removed };
}
