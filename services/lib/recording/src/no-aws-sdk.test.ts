// Only @jmp/recording (and the services that record: jmp-api, jmp-ssh) may
// reach the AWS SDK. The agent runs on every target and jmp-socket has nothing
// to store, so neither bundle may contain it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

const root = resolve(import.meta.dirname, '../../../..');

/** The third-party packages an entry reaches through jmp's own code (bare imports, @jmp/* followed). */
async function thirdParty(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const record: Plugin = {
    name: 'record-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@jmp/') || args.path.startsWith('node:')) return undefined;
        seen.add(
          args.path
            .split('/')
            .slice(0, args.path.startsWith('@') ? 2 : 1)
            .join('/'),
        );
        return { path: args.path, external: true };
      });
    },
  };
  await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    plugins: [record],
  });
  return seen;
}

test("the agent's bundle, built as scripts/bundle.mjs builds it, contains no @aws-sdk", async () => {
  const r = await build({
    entryPoints: [resolve(root, 'agent/src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: 'jmp-agent.mjs',
  });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(
    inputs.some((i) => i.includes('services/lib/contract/')),
    "the check sees the agent's inputs",
  );
  assert.deepEqual(
    inputs.filter((i) => i.includes('@aws-sdk') || i.includes('services/lib/recording/')),
    [],
  );
  assert.ok(!r.outputFiles.some((f) => f.text.includes('@aws-sdk')));
});

test('jmp-socket reaches no @aws-sdk; jmp-ssh does, through @jmp/recording', async () => {
  const aws = (s: Set<string>) => [...s].filter((p) => p.startsWith('@aws-sdk/'));
  assert.deepEqual(aws(await thirdParty('services/socket/src/main.ts')), []);
  assert.deepEqual(aws(await thirdParty('services/ssh/src/main.ts')), ['@aws-sdk/client-s3']);
});
