// NSS file rendering: standard passwd/group lines, `*` passwords, private
// groups, and no field that could shift or forge an entry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanGecos, renderNss } from './render.js';
import { snapshot } from '../../test/fixtures.js';

describe('renderNss', () => {
  test('passwd and group in the standard formats, password field *', () => {
    const r = renderNss(snapshot({ users: [{ username: 'alice', uid: 200001, gid: 200001, gecos: 'Alice Liddell' }, { username: 'bob', uid: 200002, gid: 200002, groups: ['jmp-users', 'ops'] }] }), { minId: 1000 });
    assert.equal(r.passwd, 'alice:*:200001:200001:Alice Liddell:/home/alice:/bin/bash\nbob:*:200002:200002:Test User:/home/bob:/bin/bash\n');
    assert.equal(r.group, 'alice:*:200001:\nbob:*:200002:\njmp-users:*:199999:alice,bob\n');
    assert.deepEqual(r.skipped, []);
  });

  test('snapshot group members and users naming the group are merged, without duplicates', () => {
    const s = snapshot({ users: [{ username: 'alice', uid: 200001, gid: 200001, groups: ['ops'] }] });
    s.groups = [{ name: 'ops', gid: 199_000, members: ['alice', 'carol'] }];
    assert.equal(renderNss(s, { minId: 1000 }).group, 'alice:*:200001:\nops:*:199000:alice,carol\n');
  });

  test('no ":" or newline reaches a field: GECOS is cleaned, bad names, paths and ids are skipped', () => {
    const s = snapshot({
      users: [
        { username: 'eve', uid: 200010, gid: 200010, gecos: 'Eve:0:0\nroot::0:0:x:/root:/bin/sh' },
        { username: 'root', uid: 0, gid: 0 },
        { username: 'mal:x', uid: 200011, gid: 200011 },
        { username: 'nl', uid: 200012, gid: 200012, home: '/home/nl\nx' },
        { username: 'sh', uid: 200013, gid: 200013, shell: '/bin/sh:x' },
        { username: 'dup', uid: 200010, gid: 200014 },
        { username: 'eve', uid: 200015, gid: 200015 },
      ],
    });
    s.groups.push({ name: 'bad\ngroup', gid: 199_001, members: [] }, { name: 'wheel', gid: 10, members: ['eve'] });
    const r = renderNss(s, { minId: 1000 });
    assert.equal(r.passwd, 'eve:*:200010:200010:Eve 0 0 root 0 0 x /root /bin/sh:/home/eve:/bin/bash\n');
    for (const file of [r.passwd, r.group]) {
      for (const line of file.trimEnd().split('\n')) assert.equal(line.split(':').length, file === r.passwd ? 7 : 4, line);
    }
    assert.equal(r.skipped.length, 8, r.skipped.join('\n'));
    assert.ok(!r.group.includes('wheel'), 'a low gid never appears');
  });

  test('a private group clashing with a snapshot group is left out', () => {
    const s = snapshot({ users: [{ username: 'jmp-users', uid: 200001, gid: 200001 }] });
    const r = renderNss(s, { minId: 1000 });
    assert.equal(r.group, 'jmp-users:*:199999:jmp-users\n');
    assert.match(r.skipped[0]!, /private group of jmp-users/);
  });

  test('cleanGecos', () => {
    assert.equal(cleanGecos(' a:b\r\nc\u0000d\u007f '), 'a b c d');
    assert.equal(cleanGecos('x'.repeat(500)).length, 256);
  });
});
