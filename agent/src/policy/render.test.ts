// NSS file rendering: standard passwd/group lines, `*` passwords, private
// groups, and no field that could shift or forge an entry.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { cleanGecos, renderNss } from './render.js';
import { snapshot } from '../../test/fixtures.js';
import { parseIdFile, type LocalAccounts } from '../local/accounts.js';
import type { PolicySnapshot } from '@jmp/contract/schemas/agents';
import { goldenPath, readGolden } from '../../test/golden.js';

describe('renderNss', () => {
  test('passwd and group in the standard formats, password field *', () => {
    const r = renderNss(
      snapshot({
        users: [
          { username: 'alice', uid: 200001, gid: 200001, gecos: 'Alice Liddell' },
          { username: 'bob', uid: 200002, gid: 200002, groups: ['jmp-users', 'ops'] },
        ],
      }),
      { minId: 1000 },
    );
    assert.equal(
      r.passwd,
      'alice:*:200001:200001:Alice Liddell:/home/alice:/bin/bash\nbob:*:200002:200002:Test User:/home/bob:/bin/bash\n',
    );
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
      for (const line of file.trimEnd().split('\n'))
        assert.equal(line.split(':').length, file === r.passwd ? 7 : 4, line);
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

  test('a jmp user or group never shares a name or id with a local account or group', () => {
    const pw = parseIdFile(
      'root:x:0:0::/root:/bin/bash\nalice:x:1001:1001::/home/alice:/bin/bash\nsvc:x:200003:200003::/srv:/bin/sh\n',
    );
    const gr = parseIdFile('root:x:0:\nadmins:x:1500:alice\nlocalgrp:x:200004:\ncarol:x:3000:\n');
    const local: LocalAccounts = { users: pw.byName, uids: pw.byId, groups: gr.byName, gids: gr.byId };
    const s = snapshot({
      users: [
        { username: 'alice', uid: 200001, gid: 200001, groups: ['jmp-users'] }, // a local account has the name
        { username: 'bob', uid: 200002, gid: 200002, groups: ['jmp-users', 'admins'] },
        { username: 'dave', uid: 200003, gid: 200005 }, // uid of the local account svc
        { username: 'erin', uid: 200006, gid: 200004 }, // private gid is a local group's
        { username: 'carol', uid: 200007, gid: 200007 }, // private group name is a local group
      ],
    });
    s.groups = [
      { name: 'jmp-users', gid: 199_999, members: ['alice', 'bob', 'dave', 'erin', 'carol'] },
      { name: 'admins', gid: 199_500, members: ['bob'] }, // a local group's name
      { name: 'ops', gid: 1500, members: ['bob'] }, // a local group's gid
    ];
    const r = renderNss(s, { minId: 1000, local });
    assert.equal(
      r.passwd
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0])
        .join(','),
      'bob,erin,carol',
    );
    assert.equal(r.group, 'bob:*:200002:\njmp-users:*:199999:bob,erin,carol\n');
    assert.equal(r.skipped.length, 6, r.skipped.join('\n'));
    assert.ok(r.skipped.some((x) => /"alice": a local account has this name/.test(x)));
    assert.ok(r.skipped.some((x) => /"dave": uid 200003 belongs to local account svc/.test(x)));
    assert.ok(r.skipped.some((x) => /"admins": a local group has this name/.test(x)));
    assert.ok(r.skipped.some((x) => /"ops": gid 1500 belongs to local group admins/.test(x)));
    assert.ok(r.skipped.some((x) => /private group of erin: .* is a local group/.test(x)));
    assert.ok(r.skipped.some((x) => /private group of carol: .* is a local group/.test(x)));
  });

  test('jmp-users with 20,000 members is one well-formed line', () => {
    const users = Array.from({ length: 20_000 }, (_, i) => ({
      username: `u${String(i).padStart(5, '0')}`,
      uid: 200_000 + i,
      gid: 200_000 + i,
      groups: ['jmp-users'],
    }));
    const r = renderNss(snapshot({ users }), { minId: 1000 });
    const line = r.group.split('\n').find((l) => l.startsWith('jmp-users:'))!;
    assert.equal(line.split(':').length, 4);
    assert.equal(line.split(':')[3]!.split(',').length, 20_000);
    assert.ok(
      line.length > 65_536 && line.length < 4 * 1024 * 1024,
      `${line.length} bytes: over the old limit, under libnss_jmp's`,
    );
    assert.equal(r.users, 20_000);
  });

  test('cleanGecos', () => {
    assert.equal(cleanGecos(' a:b\r\nc\u0000d\u007f '), 'a b c d');
    assert.equal(cleanGecos('x'.repeat(500)).length, 256);
  });
});

// test/golden/nss: the snapshot renders to exactly the passwd and group files
// that pam-module/tests/test_golden.c reads with libnss_jmp to entries.txt.
describe('golden NSS files shared with libnss_jmp', () => {
  type Fixture = Pick<PolicySnapshot, 'users' | 'groups'> & { minId: number };
  const fixture = JSON.parse(readFileSync(goldenPath('nss/snapshot.json'), 'utf8')) as Fixture;
  const pw = parseIdFile(readFileSync(goldenPath('nss/local-passwd'), 'utf8'));
  const gr = parseIdFile(readFileSync(goldenPath('nss/local-group'), 'utf8'));
  const local: LocalAccounts = { users: pw.byName, uids: pw.byId, groups: gr.byName, gids: gr.byId };
  const r = renderNss(fixture, { minId: fixture.minId, local });

  test('the renderer writes these exact bytes', () => {
    const same = (text: string, file: string): boolean =>
      Buffer.from(text, 'utf8').equals(readFileSync(goldenPath(file)));
    assert.ok(same(r.passwd, 'nss/passwd'), 'passwd differs from test/golden/nss/passwd');
    assert.ok(same(r.group, 'nss/group'), 'group differs from test/golden/nss/group');
    assert.ok(
      r.group.split('\n').some((l) => l.length > 4096),
      "a group line longer than glibc's first NSS buffer",
    );
  });

  test('entries.txt (what libnss_jmp must answer) follows from the snapshot', () => {
    const entries = readGolden('nss/entries.txt', 'utf8');
    const passwd = entries.filter((e) => e.kind === 'passwd');
    assert.equal(passwd.length, r.users);
    for (const { lineno, cols } of passwd) {
      const [name, uid, gid, gecos, dir, shell] = cols;
      const u = fixture.users.find((x) => x.username === name && x.uid === Number(uid));
      assert.ok(u, `line ${lineno}: no snapshot user ${name}`);
      const got = [u.gid, cleanGecos(u.gecos), u.home, u.shell];
      assert.deepEqual(got, [Number(gid), gecos, dir, shell], `line ${lineno}`);
    }
    const groups = entries.filter((e) => e.kind === 'group');
    assert.equal(groups.length, r.groups);
    for (const { lineno, cols } of groups) {
      const [name, gid, members] = cols as [string, string, string];
      const g = fixture.groups.find((x) => x.name === name && x.gid === Number(gid));
      const priv = fixture.users.find((x) => x.username === name && x.gid === Number(gid));
      assert.ok(g ?? (priv && members === ''), `line ${lineno}: ${name} is neither a snapshot nor a private group`);
      for (const m of members ? members.split(',') : []) {
        const listed = g?.members.includes(m) || fixture.users.some((u) => u.username === m && u.groups.includes(name));
        assert.ok(listed, `line ${lineno}: ${m}`);
      }
    }
    const names = new Set(passwd.map((e) => e.cols[0]));
    for (const e of entries.filter((x) => x.kind === 'absent-user')) {
      assert.ok(!names.has(e.cols[0]), `line ${e.lineno}`);
    }
    assert.ok(entries.some((e) => e.kind === 'absent-uid') && entries.some((e) => e.kind === 'absent-gid'));
  });
});
