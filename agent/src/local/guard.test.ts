// A jmp user never becomes a local account: PAM questions about a name that
// is a local account (or a jmp uid that is one) are denied before any
// decision; an allow carries the jmp uid for pam_jmp's own check.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PeerCred } from '@jmp/native';
import { decodeRequest, encodeResponse, type Response } from '../protocol/line.js';
import { guardLocalAccounts } from './guard.js';
import { parseIdFile } from './accounts.js';
import { silentLog } from '../../test/fixtures.js';

const root: PeerCred = { uid: 0, gid: 0, pid: 1 };
const pw = parseIdFile('root:x:0:0::/root:/bin/bash\nalice:x:1001:1001::/h:/s\nsvc:x:200005:1::/:/\n');
const local = { users: pw.byName, uids: pw.byId, groups: new Map<string, number>(), gids: new Map<number, string>() };
const jmpUsers = new Map([
  ['alice', 200001],
  ['bob', 200002],
  ['dave', 200005],
]);

function guarded() {
  const seen: string[] = [];
  const handle = guardLocalAccounts(
    async (req): Promise<Response> => {
      seen.push(`${req.op}:${'user' in req ? req.user : ''}`);
      return req.op === 'ping'
        ? { status: 'pong', version: 't' }
        : { status: 'allow', reason: 'granted', mode: 'online' };
    },
    {
      policy: { user: (n: string) => (jmpUsers.has(n) ? ({ uid: jmpUsers.get(n)! } as never) : undefined) },
      local: () => local,
      log: silentLog,
    },
  );
  return { handle, seen };
}

describe('guardLocalAccounts', () => {
  test('auth, account, sudo and su for a name that is a local account are denied, the decider never asked', async () => {
    const { handle, seen } = guarded();
    for (const line of [
      'v1 auth user=alice ticket=t',
      'v1 account user=alice',
      'v1 sudo user=alice runas=root',
      'v1 su user=alice runas=root',
    ]) {
      const r = await handle(decodeRequest(line + '\n'), root);
      assert.deepEqual(r, { status: 'deny', reason: 'local account alice exists on this host' }, line);
    }
    const r = await handle(decodeRequest('v1 account user=dave\n'), root);
    assert.deepEqual(r, { status: 'deny', reason: 'uid 200005 of dave belongs to local account svc on this host' });
    assert.deepEqual(seen, []);
  });

  test('an allow carries the jmp uid; other ops pass through untouched', async () => {
    const { handle, seen } = guarded();
    const r = await handle(decodeRequest('v1 account user=bob\n'), root);
    assert.deepEqual(r, { status: 'allow', reason: 'granted', mode: 'online', uid: '200002' });
    assert.equal(encodeResponse(r), 'v1 allow reason=granted mode=online uid=200002\n');
    assert.deepEqual(
      await handle(decodeRequest('v1 account user=carol\n'), root),
      { status: 'allow', reason: 'granted', mode: 'online' },
      'unknown to jmp: no uid',
    );
    assert.equal((await handle(decodeRequest('v1 ping\n'), root)).status, 'pong');
    assert.equal(
      (await handle(decodeRequest('v1 session_open user=alice\n'), root)).status,
      'allow',
      'sessions are notifications',
    );
    assert.deepEqual(seen, ['account:bob', 'account:carol', 'ping:', 'session_open:alice']);
  });
});
