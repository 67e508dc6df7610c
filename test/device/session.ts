// What a device session runs with in the tests: the person's side of the
// channel (what jmp-ssh writes to it, keys typed into it) and jmp-ssh's
// session context on a real jmp-api, with its log kept in memory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import type { PseudoTtyInfo } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import { createRecordings } from '@jmp/recording';
import { SessionController } from '../../services/ssh/src/session/controller.js';
import type { SessionCtx } from '../../services/ssh/src/session/target-session.js';

export class Person extends EventEmitter {
  /** Everything written to the person, as bytes (0xFF stays 0xFF) and as text. */
  raw = Buffer.alloc(0);
  get out(): string {
    return this.raw.toString('latin1');
  }
  writableNeedDrain = false;
  stderr = { write: (b: Buffer | string) => this.write(b), writableNeedDrain: false, once() {} };
  /** Where an error message says what the device saw. */
  context: () => string = () => '';
  write(b: Buffer | string): boolean {
    this.raw = Buffer.concat([this.raw, Buffer.isBuffer(b) ? b : Buffer.from(b)]);
    return true;
  }
  type(s: string): void {
    this.emit('data', Buffer.from(s));
  }
  async until(re: RegExp, ms = 8000): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.out)) {
      if (Date.now() > end) throw new Error(`no ${re} in: ${JSON.stringify(this.out.slice(-400))}\n${this.context()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** jmp-ssh's context for one person; `resize` gets the session's window-change handler. */
export function deviceSessionCtx(
  api: ApiClient,
  user: string,
  recDir: string,
  logLines: string[],
  size = { cols: 100, rows: 30 },
  resize: { fn: ((p: PseudoTtyInfo) => void) | null } = { fn: null },
): SessionCtx {
  // jmp-ssh's logger, at debug level, into memory: the test reads every line it wrote.
  const log = pino({ level: 'debug' }, { write: (l: string) => logLines.push(l) }) as unknown as Logger;
  return {
    api,
    config: {} as never,
    log,
    sessions: new SessionController({ api, log, maxSessionsPerUser: 10, heartbeatMs: 60_000 }),
    recordings: createRecordings({ dir: recDir }, { log }),
    user,
    source: '127.0.0.1',
    env: {},
    pty: () => ({ term: 'xterm', cols: size.cols, rows: size.rows, width: 0, height: 0, modes: {} }),
    setResize: (f) => {
      resize.fn = f;
    },
    touch: () => {},
  };
}

/**
 * The secret in none of its plain forms (text, base64, hex) in a pg_dump of
 * the database, jmp-ssh's log lines, or any recording file (gzip opened).
 */
export function assertSecretNowhere(secret: string, databaseUrl: string, logLines: string[], recDir: string): void {
  const forms = [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')];
  const url = new URL(databaseUrl);
  const args = ['-h', url.hostname, '-p', url.port || '5432', '-U', url.username || 'postgres', url.pathname.slice(1)];
  const dump = execFileSync('pg_dump', args, { maxBuffer: 64 << 20 }).toString('latin1');
  assert.ok(dump.includes('device_accounts'), 'the dump holds the device tables');
  for (const f of forms) assert.ok(!dump.includes(f), 'pg_dump');
  assert.ok(logLines.length > 0, 'something was logged');
  for (const f of forms) assert.ok(!logLines.join('\n').includes(f), "jmp-ssh's log");
  let bytes = 0;
  for (const f of readdirSync(recDir, { recursive: true }).map(String)) {
    let b: Buffer;
    try {
      b = readFileSync(join(recDir, f));
    } catch {
      continue; // a directory
    }
    bytes += b.length;
    const text = (f.endsWith('.gz') ? gunzipSync(b) : b).toString('latin1');
    for (const x of forms) assert.ok(!text.includes(x), `recording ${f}`);
  }
  assert.ok(bytes > 0, 'recordings were written');
}
