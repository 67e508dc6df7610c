// Where recordings go. A store hands out one PartSink per part file; the
// recorder appends compressed bytes to it after every flush and completes it
// when the part is full or the session ends.
//
// Naming (both stores): `<date>/<session>.part-NNNN.cast.gz`, date = UTC day of
// the session start (YYYY-MM-DD) so no directory or listing grows without
// bound, NNNN = 0001, 0002, … (more digits past 9999). A session's URI names
// the part prefix: `file:///var/lib/jmp/recordings/2025-01-31/<session>` or
// `s3://bucket/recordings/2025-01-31/<session>`; readRecording() finds its parts.

export interface PartSink {
  /**
   * Appends bytes; resolves once they are durable (local: written and
   * fsynced; S3: written and fsynced to the local spool). On failure the
   * bytes stay queued and are tried again with the next append or complete.
   */
  append(chunk: Buffer): Promise<void>;
  /** Bytes handed to append() that are not durable yet. */
  readonly queuedBytes: number;
  /** Writes what is queued and closes the part for good (S3: completes the upload). */
  complete(): Promise<void>;
  /** Gives up on the part: closes it, keeping what was made durable. Never throws. */
  abandon(): Promise<void>;
}

/** Problems a store meets outside of a caller's await (e.g. a background upload). */
export type StoreErrorReporter = (code: string, message: string) => void;

export interface RecordingStore {
  readonly kind: 'file' | 's3';
  /** URI of a session's recording (the part prefix). */
  sessionUri(sessionKey: string): string;
  openPart(partKey: string, report: StoreErrorReporter): Promise<PartSink>;
}

/** `2025-01-31/<session>`: where a session's parts live, relative to the store root. */
export function sessionKey(sessionId: string, startedAt: Date): string {
  const safe =
    sessionId
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, 128) || 'session';
  return `${startedAt.toISOString().slice(0, 10)}/${safe}`;
}

export function partKey(session: string, part: number): string {
  return `${session}.part-${String(part).padStart(4, '0')}.cast.gz`;
}

export const PART_RE = /\.part-(\d{4,})\.cast\.gz$/;

/** Part number of a part key or file name, or null. */
export function partNumber(name: string): number | null {
  const m = PART_RE.exec(name);
  return m ? Number(m[1]) : null;
}

export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; name?: unknown };
    const msg = typeof e.message === 'string' && e.message ? e.message : String(e.name ?? 'error');
    return typeof e.code === 'string' && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
  }
  return String(err);
}
