// Atomic writes (the final name never shows a partial file) and the
// memory-only degradation on a full disk: with an injected file layer, and
// on a real, tiny tmpfs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { removeStaleTemps, writeFileAtomic } from './atomic.js';
import { DiskHealth, type DiskChange } from './disk.js';
import { realFs, type FsLayer } from './fs.js';
import { PolicyStore } from '../policy/store.js';
import { SpentJtiStore } from '../decide/spent.js';
import { bootedAtS, decideOffline } from '../decide/offline.js';
import { mintTicket, silentLog, snapshot, ticketKey, tmpDir } from '../../test/fixtures.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = tmpDir();
  dirs.push(d);
  return d;
}
const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

/** realFs with hooks: `before(op, arg)` may throw. */
function hookedFs(before: (op: keyof FsLayer, arg: unknown) => void): FsLayer {
  const out = {} as Record<string, unknown>;
  for (const [k, fn] of Object.entries(realFs)) {
    out[k] = (...args: unknown[]) => {
      before(k as keyof FsLayer, args[0]);
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return out as unknown as FsLayer;
}

describe('writeFileAtomic', () => {
  test('writes the content with the exact mode, leaves no temp file', () => {
    const d = dir();
    const p = join(d, 'passwd');
    const old = process.umask(0o077);
    try {
      writeFileAtomic(p, 'a:*:1:1::/:/bin/sh\n', 0o644);
    } finally {
      process.umask(old);
    }
    assert.equal(readFileSync(p, 'utf8'), 'a:*:1:1::/:/bin/sh\n');
    assert.equal(statSync(p).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(d), ['passwd']);
  });

  test('while writing, the final name still shows the old file; the temp file has another name', () => {
    const d = dir();
    const p = join(d, 'group');
    writeFileSync(p, 'old\n');
    let checked = 0;
    const fsl = hookedFs((op) => {
      if (op === 'writeSync' || op === 'fsyncSync' || op === 'renameSync') {
        assert.equal(readFileSync(p, 'utf8'), 'old\n');
        for (const n of readdirSync(d)) if (n !== 'group') assert.match(n, /^\.group\..*\.jmp-tmp$/);
        checked++;
      }
    });
    writeFileAtomic(p, 'new\n'.repeat(10_000), 0o644, fsl);
    assert.ok(checked >= 3);
    assert.equal(readFileSync(p, 'utf8'), 'new\n'.repeat(10_000));
  });

  test('a failure at any step leaves the old file whole and cleans up', () => {
    for (const step of ['writeSync', 'fsyncSync', 'renameSync'] as const) {
      const d = dir();
      const p = join(d, 'policy.json');
      writeFileSync(p, '{"old":true}');
      const fsl = hookedFs((op) => {
        if (op === step) throw errno('EIO');
      });
      assert.throws(() => writeFileAtomic(p, '{"new":true}', 0o600, fsl), /EIO/);
      assert.equal(readFileSync(p, 'utf8'), '{"old":true}', step);
      assert.deepEqual(readdirSync(d), ['policy.json'], step);
    }
  });

  test('a crash (no cleanup) leaves only a temp file, never a partial final file; removeStaleTemps clears it', () => {
    const d = dir();
    const p = join(d, 'passwd');
    writeFileSync(p, 'old\n');
    const crashing = hookedFs((op) => {
      if (op === 'renameSync') throw errno('ECRASH');
      if (op === 'unlinkSync') throw errno('ECRASH'); // the process is gone: nobody cleans up
    });
    assert.throws(() => writeFileAtomic(p, 'partial?', 0o644, crashing));
    assert.equal(readFileSync(p, 'utf8'), 'old\n');
    assert.equal(readdirSync(d).length, 2);
    removeStaleTemps(p);
    assert.deepEqual(readdirSync(d), ['passwd']);
  });
});

describe('a full disk degrades to memory, never fails a decision', () => {
  const key = ticketKey('k1');

  function stores(d: string, fsl: FsLayer, changes: DiskChange[]) {
    const disk = new DiskHealth(silentLog, (c) => changes.push(c));
    const policy = new PolicyStore(
      { policy: join(d, 'policy.json'), passwd: join(d, 'passwd'), group: join(d, 'group') },
      1000,
      disk,
      silentLog,
      fsl,
    );
    const spent = new SpentJtiStore(join(d, 'spent-jti'), disk, fsl);
    return { disk, policy, spent };
  }

  for (const code of ['ENOSPC', 'EDQUOT', 'EROFS']) {
    test(`${code}: snapshot and spent set live in memory; logged once; written back on recovery`, () => {
      const d = dir();
      let full = true;
      const fsl = hookedFs((op) => {
        if (full && (op === 'openSync' || op === 'writeSync')) throw errno(code);
      });
      const changes: DiskChange[] = [];
      const { disk, policy, spent } = stores(d, fsl, changes);
      policy.accept(snapshot({ hostId: 7, keys: [key] }), '"e1"');
      assert.equal(disk.degraded, true);
      assert.equal(existsSync(join(d, 'passwd')), false);
      const ctx = { hostId: 7, hostname: 'web-01', policy, spent, bootedAtS: bootedAtS() };
      const t = mintTicket(key, { user: 'alice', hostId: 7 });
      assert.equal(decideOffline({ op: 'auth', user: 'alice', ticket: t }, ctx).allow, true);
      assert.equal(
        decideOffline({ op: 'auth', user: 'alice', ticket: t }, ctx).allow,
        false,
        'replay refused from memory',
      );
      assert.equal(decideOffline({ op: 'sudo', user: 'alice', runas: 'root' }, ctx).allow, true);
      assert.deepEqual(
        changes.map((c) => c.degraded),
        [true],
        'one degraded transition, however many writes fail',
      );
      disk.retry();
      assert.equal(disk.degraded, true, 'still full');
      full = false;
      disk.retry();
      assert.equal(disk.degraded, false);
      assert.deepEqual(
        changes.map((c) => c.degraded),
        [true, false],
      );
      assert.match(readFileSync(join(d, 'passwd'), 'utf8'), /^alice:\*:200000:/);
      const reborn = new SpentJtiStore(join(d, 'spent-jti'), new DiskHealth(silentLog));
      reborn.load();
      assert.equal(reborn.size, 1, 'the spent set reached the disk on recovery');
    });
  }

  test('a real full tmpfs (space and inodes)', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to mount a tmpfs');
    const d = dir();
    const mnt = join(d, 'mnt');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,nr_inodes=64,mode=755', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      return t.skip('cannot mount a tmpfs here');
    }
    try {
      // Fill the space, then the inodes.
      try {
        writeFileSync(join(mnt, 'filler'), Buffer.alloc(1024 * 1024));
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      }
      for (let i = 0; ; i++) {
        try {
          writeFileSync(join(mnt, `i${i}`), '');
        } catch {
          break;
        }
      }
      const changes: DiskChange[] = [];
      const { disk, policy, spent } = stores(mnt, realFs, changes);
      policy.accept(snapshot({ hostId: 7, keys: [key] }), '"e1"');
      assert.equal(disk.degraded, true);
      assert.ok(['ENOSPC', 'EDQUOT'].includes(disk.code ?? ''), disk.code);
      const ctx = { hostId: 7, hostname: 'web-01', policy, spent, bootedAtS: bootedAtS() };
      const t1 = mintTicket(key, { user: 'alice', hostId: 7 });
      assert.equal(decideOffline({ op: 'auth', user: 'alice', ticket: t1 }, ctx).allow, true);
      assert.equal(decideOffline({ op: 'auth', user: 'alice', ticket: t1 }, ctx).allow, false);
      // Free space: everything is written on the next retry.
      for (const n of readdirSync(mnt)) if (n === 'filler' || /^i\d+$/.test(n)) rmSync(join(mnt, n));
      disk.retry();
      assert.equal(disk.degraded, false);
      assert.ok(
        existsSync(join(mnt, 'passwd')) && existsSync(join(mnt, 'group')) && existsSync(join(mnt, 'policy.json')),
      );
      assert.match(readFileSync(join(mnt, 'spent-jti'), 'utf8'), /^\d+ [0-9a-f-]+\n$/);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
