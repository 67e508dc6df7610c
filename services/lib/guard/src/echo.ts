// Echo tracking: which of the person's keys the target has echoed yet. The
// guard judges what the screen shows, so before it decides a submission the
// echo of every key forwarded before it must have arrived ("settled"). Plain
// text is compared with the screen left of the cursor; keys the target
// redraws for (arrows, Tab, Ctrl keys) are counted and need as many outputs
// and the text typed after them at the cursor. Also tells a target that reads
// without echo (a password) apart from a slow one. Pure: the screen is read
// through `screen`, time through `now`; no I/O.
import type { Key } from './keys.js';
import type { CursorLine } from './line-tracker.js';

/** The part of the person's screen the tracker reads (the guard's LineTracker). */
export interface EchoScreen {
  cursorLine(): CursorLine;
}

/** Text longer than this is cut to its tail: only the tail is compared with the echo. */
const RUN_LIMIT = 4096;
const RUN_KEEP = 2048;

export class EchoTracker {
  /** Text typed since the echo last caught up, and the screen left of the cursor before it. */
  private run = '';
  private runBase: string | null = null;
  /** Keys that make the target redraw (not plain text), typed since the echo last caught up. */
  private complex = 0;
  /** Output arrived after the last key, and outputs since the echo last caught up. */
  private outAfterLast = false;
  private outSince = 0;
  private lastKeyAt = 0;

  constructor(
    private readonly screen: EchoScreen,
    private readonly now: () => number,
  ) {}

  /** Keys were forwarded whose echo has not been seen yet. */
  get awaiting(): boolean {
    return this.run !== '' || this.complex > 0;
  }

  /** A key was forwarded to the target (the screen is read before its echo can arrive). */
  typed(k: Key): void {
    const now = this.now();
    if (k.kind === 'text' || k.kind === 'paste') {
      const text = k.kind === 'text' ? k.text : k.text.replace(/[\x00-\x1f\x7f]/gu, '');
      if (this.run === '' && this.complex === 0) this.runBase = this.screen.cursorLine().left;
      else if (this.complex === 0 && this.runBase !== null && this.outAfterLast) {
        // The target answered earlier keys: if the screen is not "base + part of the run",
        // they were consumed otherwise (a pager's key, no echo): track afresh from here.
        const left = this.screen.cursorLine().left;
        if (!left.startsWith(this.runBase) || !this.run.startsWith(left.slice(this.runBase.length))) {
          this.run = '';
          this.runBase = left;
        }
      }
      this.run += text;
    } else {
      this.complex++;
      this.run = '';
      this.runBase = null;
    }
    if (this.run.length > RUN_LIMIT) {
      this.run = this.run.slice(-RUN_KEEP);
      this.runBase = null;
    }
    this.outAfterLast = false;
    this.lastKeyAt = now;
  }

  /**
   * The target wrote output (already on the screen). When it completes the echo, tracking
   * starts afresh; the result is then the echo's round trip in ms for plain typed text
   * (a sample for the hold timing), else null.
   */
  output(): number | null {
    if (!this.awaiting) return null;
    this.outAfterLast = true;
    this.outSince++;
    if (!this.settled()) return null;
    const rtt = this.complex === 0 && this.run !== '' ? Math.max(0, this.now() - this.lastKeyAt) : null;
    this.reset();
    return rtt;
  }

  /** Has the echo of every forwarded key arrived? */
  settled(): boolean {
    if (this.run === '' && this.complex === 0) return true;
    if (!this.outAfterLast) return false;
    const left = this.screen.cursorLine().left;
    if (this.complex === 0 && this.runBase !== null) return left === this.runBase + this.run;
    return this.outSince >= this.complex && left.endsWith(this.run);
  }

  /** Text was typed, nothing at all came back, and the screen does not show it: the target reads without echo. */
  unechoed(): boolean {
    return this.run !== '' && this.outSince === 0 && !this.screen.cursorLine().left.endsWith(this.run);
  }

  /** Nothing is awaited (the keys were submitted, or a program took the screen). */
  reset(): void {
    this.run = '';
    this.runBase = null;
    this.complex = 0;
    this.outAfterLast = false;
    this.outSince = 0;
  }

  /** The guard sent keys of its own that make the target redraw the line (it cleared a refused one). */
  cleared(): void {
    this.reset();
    this.complex = 1;
  }
}
