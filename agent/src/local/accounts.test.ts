// The host's own accounts, read from passwd/group files, and the rule that a
// jmp user must never be one of them.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { localAccountsReader, localShadow, parseIdFile, readLocalAccounts } from './accounts.js';
import { tmpDir } from '../../test/fixtures.js';

describe('local accounts', () => {
  test('parseIdFile: names and ids, comments, NIS lines and junk skipped, the first entry wins', () => {
    const r = parseIdFile(
      '# c\nroot:x:0:0:root:/root:/bin/bash\n+nis::::::\n-x:::\nbad\nno:x:abc:1\nalice:x:1001:1001::/h:/s\nalice:x:7:7::/h:/s\ntwin:x:1001:1::/:/\n',
    );
    assert.deepEqual(
      [...r.byName],
      [
        ['root', 0],
        ['alice', 1001],
        ['twin', 1001],
      ],
    );
    assert.equal(r.byId.get(1001), 'alice');
  });

  test('localShadow: same name with another uid, or the jmp uid under another name', () => {
    const pw = parseIdFile('alice:x:1001:1001::/h:/s\nsvc:x:200005:1::/:/\nbob:x:200002:200002::/h:/s\n');
    const local = { users: pw.byName, uids: pw.byId, groups: new Map(), gids: new Map() };
    assert.equal(localShadow(local, 'alice', 200001), 'local account alice exists on this host');
    assert.equal(localShadow(local, 'alice', undefined), 'local account alice exists on this host');
    assert.equal(localShadow(local, 'dave', 200005), 'uid 200005 of dave belongs to local account svc on this host');
    assert.equal(localShadow(local, 'bob', 200002), null, 'the same account');
    assert.equal(localShadow(local, 'carol', 200003), null);
    assert.equal(localShadow(local, 'carol', undefined), null);
  });

  test('the reader follows changes to the files; missing files mean no local accounts', () => {
    const dir = tmpDir();
    try {
      const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group') };
      const read = localAccountsReader(files);
      assert.equal(read().users.size, 0);
      writeFileSync(files.passwd, 'alice:x:1001:1001::/h:/s\n');
      writeFileSync(files.group, 'ops:x:1500:alice\n');
      assert.equal(read().users.get('alice'), 1001);
      assert.equal(read().gids.get(1500), 'ops');
      writeFileSync(files.passwd, 'alice:x:1001:1001::/h:/s\nbob:x:1002:1002::/h:/s\n');
      assert.equal(read().users.get('bob'), 1002);
      assert.equal(readLocalAccounts(files).users.size, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
