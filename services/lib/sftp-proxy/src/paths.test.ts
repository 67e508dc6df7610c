// Every client path is resolved inside the virtual tree: `..` and NUL can never reach another host's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, resolveVirtual, toVirtual } from './paths.js';

test('the root, a host, and paths on a host', () => {
  for (const p of ['/', '', '.', '..', '/..', '/./', '//']) assert.deepEqual(resolveVirtual(p), { kind: 'root' }, p);
  assert.deepEqual(resolveVirtual('/h1'), { kind: 'host', host: 'h1' });
  assert.deepEqual(resolveVirtual('h1/'), { kind: 'host', host: 'h1' });
  assert.deepEqual(resolveVirtual('/h1/tmp/x'), { kind: 'target', host: 'h1', path: '/tmp/x' });
  assert.deepEqual(resolveVirtual('h1//tmp/./y/../x'), { kind: 'target', host: 'h1', path: '/tmp/x' });
  assert.deepEqual(resolveVirtual('/h1/~'), { kind: 'target', host: 'h1', path: '.' });
  assert.deepEqual(resolveVirtual('/h1/~/a/b'), { kind: 'target', host: 'h1', path: 'a/b' });
});

test('`..` never leaves the host named in the path', () => {
  assert.deepEqual(resolveVirtual('/h1/../h2/etc'), { kind: 'target', host: 'h2', path: '/etc' });
  assert.deepEqual(resolveVirtual('/h1/tmp/../../../../etc/passwd'), {
    kind: 'target',
    host: 'etc',
    path: '/passwd',
  });
  assert.deepEqual(resolveVirtual('/h1/~/../../x'), { kind: 'host', host: 'x' });
  for (const p of ['/h1/a/../../..', '/h1/..', '/h1/a/b/../../..']) {
    const v = resolveVirtual(p);
    assert.ok(v.kind === 'root' || v.kind === 'host', `${p} → ${JSON.stringify(v)}`);
  }
});

test('NUL bytes, over-long paths, ~user and names no host can have are refused with a reason', () => {
  const nul = resolveVirtual('/h1/tmp/x\0/../../etc');
  assert.equal(nul.kind, 'invalid');
  assert.match((nul as { reason: string }).reason, /NUL/);
  assert.equal(resolveVirtual(`/h1/${'a'.repeat(5000)}`).kind, 'invalid');
  const tilde = resolveVirtual('/h1/~bob/x');
  assert.equal(tilde.kind, 'invalid');
  assert.match((tilde as { reason: string }).reason, /~bob paths are not supported/);
  assert.equal(resolveVirtual('/-rf/x').kind, 'invalid');
  assert.equal(resolveVirtual('/~other').kind, 'invalid');
});

test('/~staging is the staging area; `..` inside it never leaves it', () => {
  assert.deepEqual(resolveVirtual('/~staging'), { kind: 'staging', path: '' });
  assert.deepEqual(resolveVirtual('/~staging/a/./b'), { kind: 'staging', path: 'a/b' });
  assert.deepEqual(resolveVirtual('/~staging/a/../../h1/x'), { kind: 'target', host: 'h1', path: '/x' });
  assert.equal(describe(resolveVirtual('/~staging/a/b')), '/~staging/a/b');
});

test('target answers are placed under their host; the printable form round-trips', () => {
  assert.equal(toVirtual('h1', '/'), '/h1');
  assert.equal(toVirtual('h1', '/home/alice'), '/h1/home/alice');
  assert.equal(toVirtual('h1', 'relative/link'), 'relative/link');
  for (const p of ['/', '/h1', '/h1/tmp/x', '/h1/~/a']) assert.equal(describe(resolveVirtual(p)), p);
});
