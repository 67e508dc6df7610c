// What a device session runs with in the tests: the person's side of the
// channel (what jmp-ssh writes to it, keys typed into it) and jmp-ssh's
// session context on a real jmp-api, with its log kept in memory.
import { EventEmitter } from 'node:events';
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
