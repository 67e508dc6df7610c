// The README's configuration tables, generated from each service's config
// specs (the same specs the service loads and prints with --help).
//   node --import tsx scripts/config-docs.ts --write   rewrites them
//   node --import tsx scripts/config-docs.ts --check   exits 1 when they differ
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConfigSpec } from '@jmp/runtime/config';
import { configTable, writeConfigBlocks } from '@jmp/runtime/config-docs';
import { apiConfigSpecs } from '../services/api/src/config.js';
import { sshConfigSpecs } from '../services/ssh/src/config.js';
import { socketConfigSpecs } from '../services/socket/src/config.js';
import { sftpConfigSpecs } from '../services/sftp/src/config.js';
import { rdpConfigSpecs } from '../services/rdp/src/config.js';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** Each service, its entry point (for --help) and every spec it reads. The agent reads a file, not the environment. */
export const SERVICES: readonly { name: string; main: string; specs: readonly ConfigSpec[] }[] = [
  { name: 'jmp-api', main: 'services/api/src/main.ts', specs: apiConfigSpecs },
  { name: 'jmp-ssh', main: 'services/ssh/src/main.ts', specs: sshConfigSpecs },
  { name: 'jmp-socket', main: 'services/socket/src/main.ts', specs: socketConfigSpecs },
  { name: 'jmp-sftp', main: 'services/sftp/src/main.ts', specs: sftpConfigSpecs },
  { name: 'jmp-rdp', main: 'services/rdp/src/main.ts', specs: rdpConfigSpecs },
];

/** The README with every service's table regenerated. */
export function generatedReadme(text: string): string {
  return writeConfigBlocks(text, Object.fromEntries(SERVICES.map((s) => [s.name, configTable(s.specs)])));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2];
  if (mode !== '--write' && mode !== '--check') {
    process.stderr.write('usage: config-docs.ts --write | --check\n');
    process.exit(2);
  }
  const text = readFileSync(README, 'utf8');
  const next = generatedReadme(text);
  if (mode === '--write') {
    if (next !== text) writeFileSync(README, next);
  } else if (next !== text) {
    process.stderr.write(
      'README.md: the configuration tables differ from the specs; ' +
        'run node --import tsx scripts/config-docs.ts --write\n',
    );
    process.exit(1);
  }
}
