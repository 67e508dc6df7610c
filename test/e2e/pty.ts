// A pseudo-terminal driver for end-to-end tests and benchmarks: runs a
// program (the real OpenSSH client) on a real tty through util-linux
// `script`, so it prompts on /dev/tty and puts the terminal in raw mode as it
// would for a person. `expect` waits for text, `send` types; the whole
// transcript is kept for failure messages.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface PtyOptions {
  /** Terminal size the program sees (default 120x40). */
  cols?: number;
  rows?: number;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Keep at most this many characters of transcript (default 1 MiB); older text is dropped. */
  maxTranscript?: number;
}

/** Quotes one argument for `sh -c`. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class Pty {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Resolves with the exit code (or the signal's name) once the program ends. */
  readonly exited: Promise<number | string>;
  private text = '';
  private dropped = 0;
  /** Absolute offset (counting dropped text) where the next `expect` starts looking. */
  private mark = 0;
  private readonly maxTranscript: number;
  private waiter: (() => void) | null = null;

  constructor(argv: string[], opts: PtyOptions = {}) {
    if (argv.length === 0) throw new Error('Pty: empty argv');
    this.maxTranscript = opts.maxTranscript ?? 1024 * 1024;
    // `stty` sets the size of the new tty before the program reads it; `exec` keeps the program's exit status.
    const inner = `stty cols ${opts.cols ?? 120} rows ${opts.rows ?? 40} && exec ${argv.map(shellQuote).join(' ')}`;
    // -q quiet, -f flush at once, -e the child's exit status, -c the command; the typescript file is discarded.
    this.proc = spawn('script', ['-qfec', inner, '/dev/null'], { env: { ...process.env, ...opts.env } });
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, sig) => {
        this.wake();
        resolve(code ?? sig ?? 'unknown');
      }),
    );
    const onData = (d: Buffer): void => {
      this.text += d.toString('utf8');
      if (this.text.length > this.maxTranscript) {
        const cut = this.text.length - this.maxTranscript;
        this.text = this.text.slice(cut);
        this.dropped += cut;
      }
      this.wake();
    };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Everything the terminal showed so far (the last `maxTranscript` characters). */
  transcript(): string {
    return this.text;
  }

  /** Absolute offset of the end of the transcript: pass to `since` later. */
  get position(): number {
    return this.dropped + this.text.length;
  }

  /** The text shown after an absolute offset. */
  since(position: number): string {
    return this.text.slice(Math.max(0, position - this.dropped));
  }

  /** Types `text` (use `\r` for Enter, as a terminal sends it). */
  send(text: string): void {
    this.proc.stdin.write(text);
  }

  /**
   * Waits until `pattern` appears after the previous match (or the last
   * `skip()`), then moves past it. Resolves with the text from the previous
   * mark to the end of the match. Rejects with the transcript on timeout or
   * when the program ends first.
   */
  async expect(pattern: RegExp | string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.find(pattern);
      if (found) return found;
      const left = end - Date.now();
      if (left <= 0) throw this.failure(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}`);
      if (this.proc.exitCode !== null || this.proc.signalCode !== null)
        throw this.failure(
          `the program ended (${this.proc.exitCode ?? this.proc.signalCode}) before ${String(pattern)} appeared`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Moves the mark to the end of what has been shown: later `expect`s only see new output. */
  skip(): void {
    this.mark = this.position;
  }

  private find(pattern: RegExp | string): string | null {
    const from = Math.max(0, this.mark - this.dropped);
    const hay = this.text.slice(from);
    let endAt: number;
    if (typeof pattern === 'string') {
      const i = hay.indexOf(pattern);
      if (i < 0) return null;
      endAt = i + pattern.length;
    } else {
      const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(hay);
      if (!m) return null;
      endAt = m.index + m[0].length;
    }
    this.mark = this.dropped + from + endAt;
    return hay.slice(0, endAt);
  }

  private failure(message: string): Error {
    return new Error(
      `${message}\n--- output since the last match ---\n${JSON.stringify(this.since(this.mark).slice(-3000))}\n--- transcript (tail) ---\n${this.text.slice(-6000)}`,
    );
  }

  /** Ends the program (SIGTERM to `script`, which hangs up the tty) and waits for it. */
  async close(): Promise<number | string> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.stdin.end();
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
      const r = await this.exited;
      clearTimeout(t);
      return r;
    }
    return this.exited;
  }
}

/** Starts `argv` on a new pseudo-terminal. */
export function spawnPty(argv: string[], opts: PtyOptions = {}): Pty {
  return new Pty(argv, opts);
}
