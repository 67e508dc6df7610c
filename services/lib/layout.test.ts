// The layout holds: no service imports another service's code. Shared code is
// a package under services/lib (imported by its name, @jmp/<name>); a service
// imports neither another service's src/ nor its package. Tests may use
// another package's test/ helpers (the jmp-api harness), never its src/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const SERVICES = ['@jmp/api', '@jmp/ssh', '@jmp/socket', '@jmp/web', '@jmp/agent'];

/** The package folder a file belongs to: services/<svc>, services/lib/<pkg>, agent or native. */
function packageOf(file: string): string {
  const p = relative(root, file).split('/');
  if (p[0] === 'services' && p[1] === 'lib') return p.slice(0, 3).join('/');
  if (p[0] === 'services') return p.slice(0, 2).join('/');
  return p[0]!;
}

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) yield p;
  }
}

function sourceDirs(): string[] {
  const dirs = [join(root, 'agent/src')];
  for (const s of readdirSync(join(root, 'services'))) {
    if (s === 'lib')
      for (const l of readdirSync(join(root, 'services/lib'))) {
        if (!l.includes('.')) dirs.push(join(root, 'services/lib', l, 'src'));
      }
    else dirs.push(join(root, 'services', s, 'src'));
  }
  return dirs;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function layoutViolations(): string[] {
  const bad: string[] = [];
  for (const dir of sourceDirs()) {
    for (const file of tsFiles(dir)) {
      const own = packageOf(file);
      const isTest = /\.test\.tsx?$/.test(file);
      for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const spec = (m[1] ?? m[2])!;
        const where = `${relative(root, file)}: ${spec}`;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          const pkg = packageOf(target);
          if (pkg === own) continue;
          const inTest = relative(join(root, pkg), target).startsWith('test/');
          if (!(isTest && inTest)) bad.push(`${where} (reaches into ${pkg}; import its package instead)`);
        } else if (SERVICES.some((s) => spec === s || spec.startsWith(`${s}/`))) {
          bad.push(`${where} (a service's package: move what is shared to services/lib)`);
        }
      }
    }
  }
  return bad;
}

test("no service, agent or shared package imports another service's code", () => {
  assert.deepEqual(layoutViolations(), []);
});

test('the check sees the imports it must refuse', () => {
  assert.equal(packageOf(join(root, 'services/lib/guard/src/rules.ts')), 'services/lib/guard');
  assert.equal(packageOf(join(root, 'services/ssh/src/main.ts')), 'services/ssh');
  const src =
    "import { a } from '../../api/src/x.js';\nexport { b } from '@jmp/ssh/server/host-key';\nconst c = await import('./d.js');";
  assert.deepEqual(
    [...src.matchAll(IMPORT)].map((m) => m[1] ?? m[2]),
    ['../../api/src/x.js', '@jmp/ssh/server/host-key', './d.js'],
  );
});
