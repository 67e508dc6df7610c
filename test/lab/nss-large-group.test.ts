// libnss_jmp through glibc inside a lab host (no agent): the group jmp-users
// lists every jmp user on the host, so a line of 20,000 members (~200 KiB,
// far over the old 64 KiB line limit) must be served whole (glibc retries on
// ERANGE with a bigger buffer), and a jmp group never answers for, or adds
// anyone to, a local group (/etc/group) by name or gid. Run as root:
//   scripts/node-test.sh test/lab/nss-large-group.test.ts
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startLab, writeNssCache, type Lab, type LabHost } from './lab.js';

const N = 20_000;
const name = (i: number) => `u${String(i).padStart(5, '0')}`;

describe('libnss_jmp: big and clashing groups through glibc', { concurrency: false }, () => {
  let lab: Lab;
  let h1: LabHost;

  before(async () => {
    lab = await startLab({
      hosts: ['h1'],
      agentCommand: null,
      prepare: (h) => {
        const users = Array.from({ length: N }, (_, i) => ({ name: name(i), uid: 200_000 + i }));
        writeNssCache(h, {
          passwd: users,
          group: [
            ...users.slice(0, 3).map((u) => ({ name: u.name, gid: u.uid })),
            { name: 'jmp-users', gid: 199_999, members: users.map((u) => u.name) },
            // A local group's name (games, gid 60 on Debian) and a local group's gid (root, 0).
            { name: 'games', gid: 199_001, members: [name(1)] },
            { name: 'sneaky', gid: 0, members: [name(1)] },
          ],
        });
      },
    });
    h1 = lab.host('h1');
  });

  after(async () => {
    await lab?.stop();
  });

  test(`getent group jmp-users returns all ${N} members`, async () => {
    const r = await h1.exec(['getent', 'group', 'jmp-users']);
    assert.equal(r.code, 0, r.stderr);
    const [gname, pw, gid, members] = r.stdout.trim().split(':');
    assert.deepEqual([gname, pw, gid], ['jmp-users', '*', '199999']);
    const list = members!.split(',');
    assert.equal(list.length, N);
    assert.equal(list[N - 1], name(N - 1));
    const byGid = await h1.exec(['getent', 'group', '199999']);
    assert.equal(byGid.stdout.trim().split(':')[3]!.split(',').length, N);
    // initgroups: the last member is in jmp-users.
    const id = await h1.exec(['id', '-G', name(N - 1)]);
    assert.equal(id.code, 0, id.stderr);
    assert.ok(id.stdout.trim().split(' ').includes('199999'), id.stdout);
  });

  test('a jmp group never answers for a local group, nor adds anyone to one', async () => {
    const games = await h1.exec(['getent', 'group', 'games']);
    assert.match(games.stdout, /^games:x:60:/, 'the local group, from the files source');
    assert.equal(
      (await h1.exec(['getent', 'group', '199001'])).stdout,
      '',
      'the jmp copy of a local group name is not served by gid either',
    );
    const id = await h1.exec(['id', '-G', name(1)]);
    assert.equal(id.code, 0, id.stderr);
    const gids = id.stdout.trim().split(' ');
    assert.ok(!gids.includes('0'), `never in gid 0 through a jmp group: ${id.stdout}`);
    assert.ok(!gids.includes('199001'), `never in the jmp copy of games: ${id.stdout}`);
    assert.ok(gids.includes('199999'), id.stdout);
  });
});
