// The check must accept exactly what the recording stores hand out for a
// session, and nothing that names another session or walks out of the store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalStore, S3Store } from '@jmp/recording';
import { sessionKey } from '@jmp/recording/store';
import { recordingUriProblem } from './recording-uri.js';

describe('recordingUriProblem', () => {
  const id = randomUUID();
  const started = new Date('2026-03-31T23:59:30Z');
  const stores = [
    new LocalStore({ dir: '/var/lib/jmp/recordings' }),
    new LocalStore({ dir: '/srv/jmp rec/2026' }),
    new S3Store({ client: {} as S3Client, bucket: 'rec-bucket', prefix: 'recordings/', spoolDir: '/tmp/spool' }),
    new S3Store({ client: {} as S3Client, bucket: 'rec-bucket', prefix: '', spoolDir: '/tmp/spool' }),
  ];

  test("every store's URI for the session is accepted, also when the recorder's day is the next", () => {
    for (const s of stores) {
      for (const at of [started, new Date(started.getTime() + 60_000)]) {
        const uri = s.sessionUri(sessionKey(id, at));
        assert.equal(recordingUriProblem(uri, id, started), null, uri);
      }
    }
  });

  test("another session's URI, traversal, other schemes and far dates are refused", () => {
    const other = randomUUID();
    const local = stores[0]!;
    for (const uri of [
      local.sessionUri(sessionKey(other, started)),
      stores[2]!.sessionUri(sessionKey(other, started)),
      `${local.sessionUri(sessionKey(other, started))}/../${id}`,
      `file:///var/lib/jmp/recordings/2026-03-31/%2E%2E/${id}`,
      `file:///var/lib/jmp/recordings/2026-03-31\\${id}`,
      `https://example.test/2026-03-31/${id}`,
      `file://host/var/lib/jmp/recordings/2026-03-31/${id}`,
      `file:///var/lib/jmp/recordings/2026-03-31/${id}#x`,
      `file:///var/lib/jmp/recordings/2026-05-01/${id}`,
      `s3:///2026-03-31/${id}`,
      `not a uri ${id}`,
    ]) {
      assert.notEqual(recordingUriProblem(uri, id, started), null, uri);
    }
  });
});
