// The file-operation audit against a real jmp-api: batches it could not send
// while jmp-api was down are spooled and arrive once it is back (each
// operation once), and a transfer still open when its process died is
// reported `incomplete` by the next start, never as complete.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '@jmp/contract';
import { createLogger } from '@jmp/runtime';
import { startApi, type TestApi } from '../../../api/test/harness.js';
import { FileAudit } from '../src/audit.js';

let api: TestApi;
let dir: string;
let down = false;
const log = createLogger('jmp-sftp', 'silent');

before(async () => {
  api = await startApi({ redis: false });
  dir = mkdtempSync(join(tmpdir(), 'jmp-sftp-audit-'));
});
after(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A client of the real jmp-api whose network can be cut (`down`). */
function client(): ApiClient {
  return new ApiClient({
    baseUrl: api.url,
    authorization: () => `Bearer ${api.serviceToken('sftp')}`,
    fetch: (url, init) => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : fetch(url, init)),
  });
}
const op = (path: string) => ({
  user: 'alice',
  host: 'h1',
  path,
  operation: 'mkdir' as const,
  bytesRead: 0,
  bytesWritten: 0,
  durationMs: 1,
  result: 'ok' as const,
});

test('jmp-api down: batches are spooled, sent when it is back, and stored once', async () => {
  const spool = join(dir, 'down');
  const audit = new FileAudit({ api: client(), log, spoolDir: spool, flushMs: 60_000 });
  down = true;
  audit.record(op('/h1/tmp/a'));
  audit.record(op('/h1/tmp/b'));
  const t = audit.begin({
    user: 'alice',
    host: 'h1',
    path: '/h1/tmp/up',
    operation: 'upload',
    bytesRead: 0,
    bytesWritten: 0,
  });
  t.end('ok', { bytesWritten: 3, sha256: 'a'.repeat(64) });
  await audit.flush();
  assert.equal(readdirSync(join(spool, 'batches')).length, 1, 'one spooled batch');
  assert.equal((await api.db('file_operations').whereLike('path', '/h1/tmp/%')).length, 0);
  down = false;
  await audit.flush();
  assert.deepEqual(readdirSync(join(spool, 'batches')), []);
  const rows = await api.db('file_operations').whereLike('path', '/h1/tmp/%').orderBy('path');
  assert.deepEqual(
    rows.map((r: { path: string; result: string }) => `${r.path} ${r.result}`),
    ['/h1/tmp/a ok', '/h1/tmp/b ok', '/h1/tmp/up ok'],
  );
  assert.equal(rows[2].sha256, 'a'.repeat(64));
  // The same batch sent again (a spool replayed after a crash) is stored once.
  await client().request('POST', '/v1/file-operations', null, {
    operations: rows.map((r: { id: string }) => ({ ...op('/h1/tmp/again'), id: r.id, at: new Date().toISOString() })),
  });
  assert.equal((await api.db('file_operations').whereLike('path', '/h1/tmp/%')).length, 3);
  await audit.close();
});

test('a transfer open when its process died is reported incomplete by the next start; a live process keeps its own', async () => {
  const spool = join(dir, 'crash');
  const first = new FileAudit({ api: client(), log, spoolDir: spool, flushMs: 60_000 });
  const open = first.begin({
    user: 'alice',
    host: 'h1',
    path: '/h1/big',
    operation: 'upload',
    bytesRead: 0,
    bytesWritten: 0,
  });
  void open;
  const [marker] = readdirSync(join(spool, 'open'));
  assert.ok(marker?.startsWith(`${process.pid}-`));
  // This process is alive: a second instance on the same spool leaves its marker alone.
  const second = new FileAudit({ api: client(), log, spoolDir: spool, flushMs: 60_000 });
  second.recover();
  await second.flush();
  assert.equal(readdirSync(join(spool, 'open')).length, 1);
  // Owned by a process that is gone (an exited child's pid): recovered as incomplete.
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  renameSync(join(spool, 'open', marker!), join(spool, 'open', marker!.replace(/^\d+-/, `${gone.stdout}-`)));
  second.recover();
  await second.flush();
  assert.deepEqual(readdirSync(join(spool, 'open')), []);
  const [row] = await api.db('file_operations').where({ path: '/h1/big' });
  assert.equal(row.result, 'incomplete');
  assert.equal(row.sha256, null);
  assert.match(row.message, /stopped before the transfer ended/);
  await first.close();
  await second.close();
});
