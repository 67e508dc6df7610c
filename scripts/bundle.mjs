#!/usr/bin/env node
// Bundles each service's entry point into one ESM file under dist/ (esbuild).
// The project's own workspace packages are bundled in; third-party packages
// stay external and load from node_modules (several have native parts).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const ENTRIES = {
  'jmp-api': 'services/api/src/main.ts',
  'jmp-ssh': 'services/ssh/src/main.ts',
  'jmp-socket': 'services/socket/src/main.ts',
  'jmp-sftp': 'services/sftp/src/main.ts',
  'jmp-rdp': 'services/rdp/src/main.ts',
  // The agent runs on every target: one file, no tsx, loads jmp_native.node
  // from beside it (packaging) or from native/build (source tree).
  'jmp-agent': 'agent/src/main.ts',
};
// Self-contained: every dependency bundled in (it is installed without node_modules).
const SELF_CONTAINED = new Set(['jmp-agent']);
// Only an entry's name may be given: `node scripts/bundle.mjs jmp-agent`.
const only = process.argv.slice(2);
for (const name of only) if (!(name in ENTRIES)) throw new Error(`bundle: unknown entry ${name} (one of ${Object.keys(ENTRIES).join(', ')})`);
const workspaces = JSON.parse(readFileSync('package.json', 'utf8')).workspaces;
const external = new Set();
for (const ws of ['.', ...workspaces]) {
  const pkg = JSON.parse(readFileSync(`${ws}/package.json`, 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies })) {
    if (!dep.startsWith('@jmp/')) external.add(dep);
  }
}

// zod re-exports every locale (z.locales.*); jmp speaks English only. In the
// agent's bundle the locale index is replaced by English alone: ~260 KB less
// code to load on every host.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-english-only', pluginData: args.resolveDir } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from '../locales/en.js';", resolveDir: args.pluginData, loader: 'js',
    }));
  },
};

// The agent runs on the distribution's nodejs (Debian 12: 18.x; `make agent-node18-test` runs it there).
const target = (name) => (SELF_CONTAINED.has(name) ? 'node18' : 'node20');

for (const [name, entry] of Object.entries(ENTRIES).filter(([n]) => !only.length || only.includes(n))) {
  await build({
    entryPoints: [entry], outfile: `dist/${name}.mjs`, bundle: true, platform: 'node', format: 'esm', target: target(name),
    // The agent runs on every host: minified, it loads faster and holds less.
    minify: SELF_CONTAINED.has(name),
    plugins: SELF_CONTAINED.has(name) ? [zodEnglishOnly] : [],
    sourcemap: true, external: SELF_CONTAINED.has(name) ? [] : [...external],
    // Bundled CommonJS dependencies still call require() for Node built-ins.
    banner: SELF_CONTAINED.has(name) ? { js: "import { createRequire as __jmpCreateRequire } from 'node:module'; const require = __jmpCreateRequire(import.meta.url);" } : undefined, logLevel: 'warning', legalComments: 'none',
  });
  console.log(`bundle: dist/${name}.mjs`);
}
