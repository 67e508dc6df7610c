// The screen the user sees, kept in a headless terminal (@xterm/headless,
// scrollback 0): fed with the target's output, asked for the cursor's logical
// line (wrapped rows joined). Output is queued cheaply and parsed only when the
// guard needs to read the screen; a burst larger than bulkBytes keeps only its
// tail (what can still be on the screen), so bulk output costs a copy, not a
// parse. While a command line is being tracked the terminal grows downwards so
// that a long wrapped line never scrolls its beginning away (scrollback stays 0).
import xterm from '@xterm/headless';

export interface LineTrackerOptions {
  cols: number;
  rows: number;
  /** Longest command line kept in full (bytes ≈ cells); default 64 KiB. */
  maxLineCells?: number;
  /** Unparsed output above this is cut to its tail; default 256 KiB. */
  bulkBytes?: number;
}

export interface CursorLine {
  /** The whole logical line, wrapped rows joined, trailing blanks kept. */
  text: string;
  /** The part left of the cursor. */
  left: string;
}

interface CoreWithWriteSync {
  writeSync(data: string | Uint8Array): void;
}

const ALT_ON = [Buffer.from('\x1b[?1049h'), Buffer.from('\x1b[?1047h'), Buffer.from('\x1b[?47h')];
const ALT_OFF = [Buffer.from('\x1b[?1049l'), Buffer.from('\x1b[?1047l'), Buffer.from('\x1b[?47l')];

export class LineTracker {
  private readonly term: InstanceType<typeof xterm.Terminal>;
  private readonly core: CoreWithWriteSync;
  /** term.buffer, taken once: the getter checks the proposed-API option on every call, and it is read per key. */
  private readonly buffers: InstanceType<typeof xterm.Terminal>['buffer'];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private baseRows: number;
  private readonly maxLineCells: number;
  private readonly bulkBytes: number;
  private disposed = false;
  /** Grow rather than scroll the cursor's logical line away (set while a command line is tracked). */
  keepLine = false;
  /** Output chunks parsed so far. */
  parsedChunks = 0;
  /** The cursor's line as last read; null once the screen may have changed (output parsed, resized). */
  private cached: CursorLine | null = null;

  constructor(opts: LineTrackerOptions) {
    this.baseRows = clampSize(opts.rows, 1, 1000, 24);
    this.maxLineCells = opts.maxLineCells ?? 64 * 1024;
    this.bulkBytes = opts.bulkBytes ?? 256 * 1024;
    this.term = new xterm.Terminal({
      cols: clampSize(opts.cols, 2, 2000, 80),
      rows: this.baseRows,
      scrollback: 0,
      allowProposedApi: true,
      logLevel: 'off',
      convertEol: false,
    });
    const core = (this.term as unknown as { _core?: Partial<CoreWithWriteSync> })._core;
    if (!core || typeof core.writeSync !== 'function')
      throw new Error('@xterm/headless has no synchronous write (expected 5.x)');
    this.core = core as CoreWithWriteSync;
    this.buffers = this.term.buffer;
  }

  get cols(): number {
    return this.term.cols;
  }

  /** Queues target output; nothing is parsed until the screen is read. */
  write(buf: Buffer): void {
    if (this.disposed || buf.length === 0) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes > this.bulkBytes) this.cutBulk();
  }

  /** Parses queued output. */
  sync(): void {
    if (this.disposed || this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.cached = null;
    for (const c of chunks) {
      this.parsedChunks++;
      if (!this.keepLine) {
        this.core.writeSync(c);
        continue;
      }
      // At most `step` bytes can wrap the line by step/cols rows: check room in between.
      const step = this.term.cols * 4;
      for (let i = 0; i < c.length; i += step) {
        this.ensureRoom(Math.ceil(step / this.term.cols) + 2);
        this.core.writeSync(c.subarray(i, i + step));
      }
      this.ensureRoom(2);
    }
  }

  get altScreen(): boolean {
    this.sync();
    return this.buffers.active.type === 'alternate';
  }

  /**
   * The cursor's logical line (after parsing queued output). Kept until the screen changes: the echo
   * tracker asks after every key and every output, mostly about a screen nothing has changed since.
   */
  cursorLine(): CursorLine {
    this.sync();
    return (this.cached ??= this.readCursorLine());
  }

  private readCursorLine(): CursorLine {
    const buf = this.buffers.active;
    const y = buf.baseY + buf.cursorY;
    let start = y;
    while (start > 0 && buf.getLine(start)?.isWrapped) start--;
    let end = y;
    // Bounded by the buffer's length: past it, xterm's circular list hands back
    // stale rows, and on a screen where every row wraps this would never end.
    while (end + 1 < buf.length && buf.getLine(end + 1)?.isWrapped) end++;
    let left = '';
    let text = '';
    for (let r = start; r <= end; r++) {
      const line = buf.getLine(r);
      if (!line) continue;
      const row = line.translateToString(false);
      text += row;
      if (r < y) left += row;
      else if (r === y) left += line.translateToString(false, 0, buf.cursorX);
    }
    return { text, left };
  }

  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.sync();
    this.baseRows = clampSize(rows, 1, 1000, this.baseRows);
    this.cached = null;
    this.term.resize(
      clampSize(cols, 2, 2000, this.term.cols),
      Math.max(this.baseRows, this.keepLine ? this.term.rows : 0),
    );
  }

  /** Back to the user's size once the long line is no longer needed. */
  relax(): void {
    if (this.disposed || this.term.rows === this.baseRows) return;
    this.sync();
    this.cached = null;
    this.term.resize(this.term.cols, this.baseRows);
  }

  get rows(): number {
    return this.term.rows;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pending = [];
    this.term.dispose();
  }

  /** Grows the terminal when fewer than `need` wraps would scroll the logical line's first row away. */
  private ensureRoom(need: number): void {
    const buf = this.buffers.active;
    if (buf.type === 'alternate') return;
    let start = buf.cursorY;
    while (start > 0 && buf.getLine(buf.baseY + start)?.isWrapped) start--;
    const room = start + (this.term.rows - 1 - buf.cursorY);
    if (room >= need || start > need) return;
    const cap = this.baseRows + Math.ceil(this.maxLineCells / this.term.cols) + need;
    if (this.term.rows >= cap) return;
    this.cached = null;
    this.term.resize(this.term.cols, Math.min(cap, this.term.rows + Math.max(need * 4, this.baseRows)));
  }

  /** Keeps the tail of a large burst; carries the alternate-screen state of the dropped part. */
  private cutBulk(): void {
    const all = Buffer.concat(this.pending);
    const keep = Math.max(this.bulkBytes >> 2, this.term.cols * this.term.rows * 4);
    let cut = all.length - keep;
    if (cut <= 0) return;
    const nl = all.indexOf(0x0a, cut);
    if (nl >= 0 && nl < all.length - 1) cut = nl + 1;
    const dropped = all.subarray(0, cut);
    const on = Math.max(...ALT_ON.map((m) => dropped.lastIndexOf(m)));
    const off = Math.max(...ALT_OFF.map((m) => dropped.lastIndexOf(m)));
    const prefix: Buffer[] = [];
    if (on > off) prefix.push(ALT_ON[0]!);
    else if (off > on) prefix.push(ALT_OFF[0]!);
    this.pending = [...prefix, all.subarray(cut)];
    this.pendingBytes = all.length - cut;
  }
}

/** A size in cells; 0 or nonsense (a client that sent no window size, e.g. `ssh -tt` from a pipe) means `fallback`. */
function clampSize(n: number, min: number, max: number, fallback: number): number {
  return Number.isFinite(n) && n >= 1 ? Math.min(max, Math.max(min, Math.floor(n))) : fallback;
}
