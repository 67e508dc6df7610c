// Route handlers do not write SQL: a file that declares routes (a RouteModule)
// validates, decides and calls its area's repository, which holds the knex
// queries (requests/repository.ts, sessions/repository.ts, admin/repository/).
// Passing ctx.db to a repository and opening ctx.db.transaction are allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

const KNEX_USES: Array<[RegExp, string]> = [
  [/\bfrom\s+['"]knex['"]/, 'imports knex'],
  [/\b(?:db|trx|tx|knex)\s*\(/, 'calls a table (db(…) / trx(…))'],
  [
    /\b(?:db|trx|tx|knex)\s*\.\s*(?!transaction\b)\w+/,
    'uses a knex method (raw, fn, select …); only .transaction is allowed',
  ],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** The code without comments, so a comment that names db(…) is no finding. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

function findings(file: string): string[] {
  const lines = code(readFileSync(file, 'utf8')).split('\n');
  return lines.flatMap((line, i) =>
    KNEX_USES.filter(([re]) => re.test(line)).map(([, why]) => `${i + 1}: ${why}: ${line.trim().slice(0, 120)}`),
  );
}

const routeFiles = sourceFiles(SRC)
  .filter((f) => /:\s*RouteModule\s*=/.test(readFileSync(f, 'utf8')))
  .map((f) => relative(SRC, f).split('\\').join('/'))
  .sort();

test('the scan sees the route files of every area', () => {
  for (const f of [
    'admin/users.ts',
    'admin/hosts.ts',
    'sessions/routes.ts',
    'sessions/recording.ts',
    'requests/routes.ts',
    'agents/routes.ts',
    'auth/routes.ts',
    'health/routes.ts',
    'tickets/routes.ts',
    'pam/routes.ts',
  ]) {
    assert.ok(routeFiles.includes(f), `${f} declares routes`);
  }
});

test('route files call their repository instead of building knex queries', () => {
  const bad = routeFiles.flatMap((f) => findings(join(SRC, f)).map((x) => `${f}:${x}`));
  assert.deepEqual(bad, [], `move these queries into the area's repository:\n${bad.join('\n')}`);
});
