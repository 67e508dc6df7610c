#!/usr/bin/env node
// Bundles each service's entry point into one ESM file under dist/ (esbuild).
// The project's own workspace packages are bundled in; third-party packages
// stay external and load from node_modules (several have native parts).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const ENTRIES = { 'jmp-api': 'services/api/src/main.ts' };
const workspaces = JSON.parse(readFileSync('package.json', 'utf8')).workspaces;
const external = new Set();
for (const ws of ['.', ...workspaces]) {
  const pkg = JSON.parse(readFileSync(`${ws}/package.json`, 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies })) {
    if (!dep.startsWith('@jmp/')) external.add(dep);
  }
}

for (const [name, entry] of Object.entries(ENTRIES)) {
  await build({
    entryPoints: [entry], outfile: `dist/${name}.mjs`, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    sourcemap: true, external: [...external], logLevel: 'warning', legalComments: 'none',
  });
  console.log(`bundle: dist/${name}.mjs`);
}
