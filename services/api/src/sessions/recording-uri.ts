// A session's recording URI, as a service reports it at the session's end,
// must be the one the recording store derives for that session:
// `file:///…/<YYYY-MM-DD>/<session>` or `s3://bucket/…/<YYYY-MM-DD>/<session>`
// (services/lib/recording/src/store.ts). Otherwise a service token could
// point one person's session at another's recording, or at any file jmp-api
// can read.
import { sessionKey } from '@jmp/recording/store';

const DAY_MS = 86_400_000;

/** Why `uri` cannot be the recording of session `id` started at `startedAt`, or null when it can. */
export function recordingUriProblem(uri: string, id: string, startedAt: Date): string | null {
  // Dot segments, encoded dots or slashes and backslashes could walk out of the store.
  if (/\.\.|%2e|%2f|%5c|\\|[\u0000-\u001f\u007f]/i.test(uri))
    return 'must not contain "..", encoded dots or slashes, backslashes or control characters';
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'is not a URI';
  }
  if (u.protocol !== 'file:' && u.protocol !== 's3:') return 'must be a file:// or s3:// URI';
  if (u.search || u.hash || u.username || u.password || u.port) return 'must not have a query, fragment, user or port';
  if (u.protocol === 'file:' && u.host !== '') return 'must be a local file:/// URI';
  if (u.protocol === 's3:' && !u.host) return 'must name an S3 bucket';
  // The recorder dates the key by its own clock, a moment after the row was made: allow the day before and after.
  const keys = [-DAY_MS, 0, DAY_MS].map((d) => `/${sessionKey(id, new Date(startedAt.getTime() + d))}`);
  if (!keys.some((k) => u.pathname.endsWith(k))) return `must end in <YYYY-MM-DD>/${id}, the key of this session`;
  return null;
}
