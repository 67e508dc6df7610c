// Each service's configuration is documented from its specs: the README's
// tables are the generated ones, and --help lists every variable it reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configDocs, configTable, readConfigBlock } from '@jmp/runtime/config-docs';
import { README, SERVICES } from '../../scripts/config-docs.js';

const root = resolve(import.meta.dirname, '../..');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

for (const s of SERVICES) {
  test(`${s.name}: the README table is the one generated from its specs`, () => {
    const written = readConfigBlock(readFileSync(README, 'utf8'), s.name);
    assert.ok(written !== undefined, `README.md has no <!-- config:${s.name} --> block`);
    assert.equal(written, configTable(s.specs), 'run: node --import tsx scripts/config-docs.ts --write');
  });

  test(`${s.name} --help lists every variable of its specs, with its default`, () => {
    const r = run(s.main, '--help');
    assert.equal(r.status, 0, r.stderr);
    for (const d of configDocs(s.specs)) {
      const at = r.stdout.search(new RegExp(`^ {2}${d.env}(\\s|$)`, 'm'));
      assert.ok(at >= 0, `${d.env} is not in ${s.name} --help`);
      if (d.default === null || !('value' in d.default)) continue;
      assert.ok(r.stdout.includes(`(default: ${d.default.value})`), `${d.env}'s default`);
    }
    for (const line of r.stdout.split('\n')) assert.ok(line.length <= 100, `over 100 columns: ${line}`);
  });
}

test('config-docs.ts --check passes on the README as committed', () => {
  const ok = run('scripts/config-docs.ts', '--check');
  assert.equal(ok.status, 0, ok.stderr);
});
