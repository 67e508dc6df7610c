import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { bool, port } from './config.js';
import { configHelp, configTable, describeEntry, readConfigBlock, writeConfigBlocks } from './config-docs.js';

const spec = {
  port: { env: 'JMP_X_PORT', schema: port(8080), help: 'listen port' },
  token: { env: 'JMP_X_TOKEN', schema: z.string().min(20), help: 'token from `jmp-api service-token x`' },
  mode: { env: 'JMP_X_MODE', schema: z.enum(['deny', 'allow']).default('deny'), help: '`deny` | `allow`' },
  smtp: { env: 'JMP_X_SMTP', schema: z.string().optional(), help: 'mail server', unset: 'unset: no mail' },
  dir: { env: 'JMP_X_DIR', schema: z.string().optional(), help: 'static files' },
  listen: {
    env: 'JMP_X_LISTEN',
    help: 'listen address',
    default: '127.0.0.1:1',
    schema: z
      .string()
      .default('127.0.0.1:1')
      .transform((v) => ({ host: v.split(':')[0], port: Number(v.split(':')[1]) })),
  },
  debug: {
    env: 'JMP_X_DEBUG',
    schema: bool(false),
    help: 'a long meaning that has to wrap because it goes on and on about what it does to the process and why',
  },
} as const;

test("defaults come from the schema, or the entry's words when the schema has none", () => {
  assert.deepEqual(describeEntry(spec.port).default, { value: '8080' });
  assert.deepEqual(describeEntry(spec.token).default, { text: 'required' });
  assert.deepEqual(describeEntry(spec.smtp).default, { text: 'unset: no mail' });
  assert.equal(describeEntry(spec.dir).default, null);
  assert.deepEqual(describeEntry(spec.listen).default, { value: '127.0.0.1:1' });
  assert.deepEqual(describeEntry(spec.debug).default, { value: 'false' });
});

test("words that contradict the schema's default are refused", () => {
  assert.throws(
    () => describeEntry({ env: 'JMP_X', schema: port(1), help: 'h', default: '2' }),
    /JMP_X: the schema's default is 1/,
  );
  assert.throws(() => describeEntry({ env: 'JMP_X', schema: z.string(), help: 'h', default: 'a' }), /requires a value/);
  assert.throws(() => configHelp([{ a: spec.port }, { b: spec.port }]), /JMP_X_PORT is documented twice/);
});

test('--help: one entry per variable, default last, wrapped at 100 columns', () => {
  const help = configHelp([spec]);
  for (const line of help.split('\n')) assert.ok(line.length <= 100, line);
  assert.match(help, /^ {2}JMP_X_PORT {2,}listen port \(default: 8080\)$/m);
  assert.match(help, /^ {2}JMP_X_TOKEN {2,}token from `jmp-api service-token x` \(required\)$/m);
  assert.match(help, /^ {2}JMP_X_SMTP {2,}mail server \(unset: no mail\)$/m);
  assert.match(help, /^ {2}JMP_X_DIR {2,}static files$/m);
  assert.match(help, /^ {2}JMP_X_LISTEN {2,}listen address \(default: 127\.0\.0\.1:1\)$/m);
  // The continuation lines start at the meaning's column.
  const lines = help.split('\n');
  const i = lines.findIndex((l) => l.startsWith('  JMP_X_DEBUG'));
  const column = lines[i]!.indexOf('a long');
  assert.match(lines[i + 1]!, new RegExp(`^ {${column}}\\S`));
  assert.match(lines.slice(i, i + 3).join(' '), /\(default: false\)/);
  // A name too long for the column gets a line of its own.
  const long = configHelp([{ x: { env: `JMP_${'X'.repeat(40)}`, schema: port(1), help: 'p' } }]);
  assert.match(long, /^ {2}JMP_X+\n {4,}p \(default: 1\)\n$/);
});

test('the README table: code defaults, words as written, pipes escaped', () => {
  const table = configTable([spec]);
  assert.match(table, /^\| variable \| default \| meaning \|\n\|---\|---\|---\|\n/);
  assert.match(table, /^\| `JMP_X_PORT` \| `8080` \| listen port \|$/m);
  assert.match(table, /^\| `JMP_X_TOKEN` \| required \| token from `jmp-api service-token x` \|$/m);
  assert.match(table, /^\| `JMP_X_MODE` \| `deny` \| `deny` \\\| `allow` \|$/m);
  assert.match(table, /^\| `JMP_X_SMTP` \| unset: no mail \| mail server \|$/m);
  assert.match(table, /^\| `JMP_X_DIR` \| — \| static files \|$/m);
});

test('blocks between markers are replaced, the text around them kept', () => {
  const text =
    'intro\n<!-- config:a -->\nold\n<!-- /config:a -->\nmiddle\n<!-- config:b -->\n<!-- /config:b -->\nend\n';
  const out = writeConfigBlocks(text, { a: 'A\n', b: 'B1\nB2\n' });
  assert.equal(
    out,
    'intro\n<!-- config:a -->\nA\n<!-- /config:a -->\nmiddle\n<!-- config:b -->\nB1\nB2\n<!-- /config:b -->\nend\n',
  );
  assert.equal(readConfigBlock(out, 'b'), 'B1\nB2\n');
  assert.equal(readConfigBlock(out, 'c'), undefined);
  assert.throws(() => writeConfigBlocks(text, { c: 'C\n' }), /no <!-- config:c --> … <!-- \/config:c --> block/);
});
