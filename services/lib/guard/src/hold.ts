// Hold timing: how long a submission (Enter) may wait for the target's echo
// before it is decided with what the screen shows. The wait adapts to the
// echo's round trip (a smoothed RTT from typed text): it ends holdMs after the
// last output that arrived while holding, and never later than maxHoldMs after
// the hold began. Pure: time comes from `now`; the proxy owns the one timer.
export interface HoldClockOptions {
  /** Bounds of the wait for echo; default 150..1500 ms. */
  minHoldMs?: number;
  maxHoldMs?: number;
  now: () => number;
}

/** The echo round trip assumed before the first sample (ms). */
const INITIAL_RTT_MS = 50;

export class HoldClock {
  readonly minHoldMs: number;
  readonly maxHoldMs: number;
  private readonly now: () => number;
  /** When the current hold began (null: nothing held), and the last output during it. */
  private since: number | null = null;
  private lastProgress = 0;
  private srtt = INITIAL_RTT_MS;

  constructor(opts: HoldClockOptions) {
    this.minHoldMs = opts.minHoldMs ?? 150;
    this.maxHoldMs = Math.max(this.minHoldMs, opts.maxHoldMs ?? 1500);
    this.now = opts.now;
  }

  /** A hold is running. */
  get holding(): boolean {
    return this.since !== null;
  }

  /** The quiet time (no output) after which a hold ends: four round trips plus 50 ms, within the bounds. */
  holdMs(): number {
    return Math.round(Math.min(this.maxHoldMs, Math.max(this.minHoldMs, 4 * this.srtt + 50)));
  }

  /** The running hold has lasted long enough: quiet for holdMs, or maxHoldMs since it began. */
  due(): boolean {
    if (this.since === null) return false;
    const now = this.now();
    return now - this.since >= this.maxHoldMs || now - Math.max(this.since, this.lastProgress) >= this.holdMs();
  }

  /** Holds (starting the hold if none runs); returns the ms until the hold is due, at least 1. */
  hold(): number {
    const now = this.now();
    if (this.since === null) {
      this.since = now;
      this.lastProgress = now;
    }
    const byQuiet = this.holdMs() - (now - Math.max(this.since, this.lastProgress));
    const byMax = this.maxHoldMs - (now - this.since);
    return Math.max(1, Math.round(Math.min(byQuiet, byMax)));
  }

  /** Output arrived while holding: the quiet time starts again. */
  progress(): void {
    this.lastProgress = this.now();
  }

  /** The held input was decided. */
  release(): void {
    this.since = null;
  }

  /** One echo round trip measured (ms). */
  sample(rttMs: number): void {
    this.srtt = 0.8 * this.srtt + 0.2 * rttMs;
  }
}
