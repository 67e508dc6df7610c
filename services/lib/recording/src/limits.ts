// The cap and back-pressure policy of one recording, pure: decides whether
// text is kept or dropped while the store is slow (and says when to report
// the gap), when the session's total size cap is reached, and how many
// markers are still kept after it. It holds counters only; the recorder acts.

/** Room kept under maxBytes for the truncation marker and the gzip trailer. */
export const RESERVE = 4096;
/** Markers (guard verdicts) still kept after the cap. */
export const MARKERS_AFTER_CAP = 1000;
/** Estimated characters of an event line beyond its text, when checking the cap. */
const CAP_LINE_OVERHEAD = 40;

export interface LimitsConfig {
  /** Cap of the session's compressed size. */
  maxBytes: number;
  /** Text waiting to be stored above which new text is dropped. */
  maxBacklogBytes: number;
}

/** What to do with text that arrives. */
export type Admission =
  /** Drop it; `report` is the notice to send (once per run of drops), or null. */
  | { keep: false; report: string | null }
  /** Keep it; `gap` characters were dropped just before it (0: none), to be marked. */
  | { keep: true; gap: number };

export class RecordingLimits {
  private truncatedFlag = false;
  private dropped = 0;
  private backlogReported = false;
  private markersAfterCap = 0;

  constructor(private readonly c: LimitsConfig) {}

  get truncated(): boolean {
    return this.truncatedFlag;
  }

  /** Text of `chars` characters arrives while `backlog` bytes wait to be stored. */
  admit(chars: number, backlog: number): Admission {
    if (backlog > this.c.maxBacklogBytes) {
      this.dropped += chars;
      if (this.backlogReported) return { keep: false, report: null };
      this.backlogReported = true;
      return {
        keep: false,
        report:
          'the recording store is too slow; output is being dropped ' +
          `(backlog over ${this.c.maxBacklogBytes} bytes)`,
      };
    }
    const gap = this.dropped;
    this.dropped = 0;
    this.backlogReported = false;
    return { keep: true, gap };
  }

  /** Would `used` bytes (stored, plus text not compressed yet) and a line of `chars` more go over the cap? */
  overCap(used: number, chars: number): boolean {
    return used + chars + CAP_LINE_OVERHEAD > this.c.maxBytes - RESERVE;
  }

  /** Have `stored` compressed bytes reached the cap? */
  reached(stored: number): boolean {
    return stored >= this.c.maxBytes - RESERVE;
  }

  /** Stops the recording at the cap: the marker to write the first time, else null. */
  truncate(): { marker: string; notice: string } | null {
    if (this.truncatedFlag) return null;
    this.truncatedFlag = true;
    const max = this.c.maxBytes;
    return {
      marker:
        `recording_truncated: this session's recording reached its limit of ${max} bytes; ` +
        'the rest of the session is not recorded',
      notice: `recording stopped at the limit of ${max} bytes; the session goes on unrecorded`,
    };
  }

  /** May a marker still be recorded? After the cap, only the first MARKERS_AFTER_CAP. */
  allowMarker(): boolean {
    return !this.truncatedFlag || ++this.markersAfterCap <= MARKERS_AFTER_CAP;
  }
}

/** The marker written where dropped output would have been. */
export function gapMarker(chars: number): string {
  return `recording_gap: ${chars} characters of output were not recorded (the store was too slow)`;
}
