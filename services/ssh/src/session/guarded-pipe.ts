// Wires a person's channel to a target channel through the command guard and
// the recorder. The guard decides what reaches the target; everything the
// person sees is recorded; judged commands go to jmp-api in batches.
// Back-pressure: when the person's channel is full (a slow client) or the
// recorder falls behind, the target channel is paused, so the target's own
// window closes and it waits. Nothing is buffered without bound and no
// output goes unrecorded because the recorder was slow.
import type { ClientChannel, ServerChannel } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { CommandRecord } from '@jmp/contract/schemas/sessions';
import type { CommandGuard, GuardResult, JudgedLine, StdinLineGuard, StdinResult } from '@jmp/guard';
import type { SessionRecording } from '@jmp/recording';

export interface PipeDeps {
  sessionId: string;
  api: ApiClient;
  log: Logger;
  channel: ServerChannel;
  remote: ClientChannel;
  guard: CommandGuard | null;
  rec: SessionRecording;
  /** A session without a terminal: stdin lines are judged before they are forwarded (instead of `guard`). */
  lines?: StdinLineGuard | null;
  touch(): void;
  /** Recorder backlog (bytes) above which the target is paused; it resumes below a quarter of it. Default 4 MiB. */
  recordingHighWater?: number;
}

/** How often a paused pipe looks whether it may resume (the recorder has no drain event). */
const RESUME_POLL_MS = 5;

export function commandRecord(j: JudgedLine, at = new Date()): CommandRecord {
  const rule = j.rules.find((r) => r.action === 'block') ?? j.rules[0];
  const verdict = j.skipped ? 'skipped' : j.verdict;
  return {
    at: at.toISOString(),
    line: j.line,
    verdict,
    ...(typeof rule?.id === 'number' ? { ruleId: rule.id } : {}),
    ...(rule ? { ruleName: rule.name, severity: rule.severity } : {}),
  };
}

export class GuardedPipe {
  bytesIn = 0;
  bytesOut = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private pending: CommandRecord[] = [];
  private readonly flusher: NodeJS.Timeout;
  private paused = false;
  private resumeTimer: NodeJS.Timeout | null = null;
  private readonly highWater: number;
  /** Times the target was paused (for tests and metrics). */
  pauses = 0;
  private readonly onInput = (d: Buffer) => {
    this.d.touch();
    this.bytesIn += d.length;
    this.d.rec.input(d);
    if (this.d.lines) this.applyLines(this.d.lines.input(d));
    else if (!this.d.guard) this.d.remote.write(d);
    else this.apply(this.d.guard.input(d));
  };
  /** The person's EOF: the last line is judged before the target gets it, and then EOF. */
  private readonly onEnd = () => {
    if (!this.d.lines) return;
    this.applyLines(this.d.lines.end());
    this.d.remote.end();
  };

  constructor(private readonly d: PipeDeps) {
    this.highWater = d.recordingHighWater ?? 4 * 1024 * 1024;
    d.channel.on('data', this.onInput);
    d.channel.on('end', this.onEnd);
    d.remote.on('data', (buf: Buffer) => {
      d.touch();
      this.bytesOut += buf.length;
      const ok = d.channel.write(buf);
      d.rec.output(buf);
      const released = d.guard?.output(buf);
      if (released) this.apply(released);
      if (!ok || d.rec.backlogBytes > this.highWater) this.pause();
    });
    d.remote.stderr.on('data', (buf: Buffer) => {
      this.bytesOut += buf.length;
      const ok = d.channel.stderr.write(buf);
      d.rec.output(buf);
      if (!ok || d.rec.backlogBytes > this.highWater) this.pause();
    });
    // Most seconds nothing was judged: no call (and no promise) then.
    this.flusher = setInterval(() => {
      if (this.pending.length) void this.report();
    }, 1000);
    this.flusher.unref();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pauses++;
    this.d.remote.pause();
    this.d.remote.stderr.pause();
    this.waitToResume();
  }

  /** Resumes once the person's channel has drained and the recorder is below a quarter of the high-water mark. */
  private waitToResume(): void {
    this.resumeTimer = null;
    const { channel } = this.d;
    if (channel.writableNeedDrain) return void channel.once('drain', () => this.waitToResume());
    if (channel.stderr.writableNeedDrain) return void channel.stderr.once('drain', () => this.waitToResume());
    if (this.d.rec.backlogBytes > this.highWater / 4) {
      this.resumeTimer = setTimeout(() => this.waitToResume(), RESUME_POLL_MS);
      return;
    }
    this.paused = false;
    this.d.remote.resume();
    this.d.remote.stderr.resume();
  }

  private apply(r: GuardResult): void {
    if (r.forward.length) this.d.remote.write(r.forward);
    if (r.toUser.length) {
      this.d.channel.write(r.toUser);
      this.d.rec.output(r.toUser);
    }
    for (const j of r.judged) {
      this.pending.push(commandRecord(j));
      if (j.verdict !== 'pass' || j.skipped) this.d.rec.marker(`${j.skipped ? 'skipped' : j.verdict}: ${j.line}`);
    }
    if (r.blocked)
      this.d.log.info(
        { session: this.d.sessionId, rule: r.blocked.rule.name, line: r.blocked.line },
        'command blocked',
      );
    if (this.holdTimer) {
      clearTimeout(this.holdTimer);
      this.holdTimer = null;
    }
    if (r.hold) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = null;
        const f = this.d.guard?.flush();
        if (f) this.apply(f);
      }, r.holdMs);
    }
    if (r.blocked) void this.report();
  }

  private applyLines(r: StdinResult): void {
    if (r.forward.length) this.d.remote.write(r.forward);
    if (r.toUser.length) {
      this.d.channel.stderr.write(r.toUser);
      this.d.rec.output(r.toUser);
    }
    for (const j of r.judged) {
      this.pending.push(commandRecord(j));
      if (j.verdict !== 'pass' || j.skipped) this.d.rec.marker(`${j.skipped ? 'skipped' : j.verdict}: ${j.line}`);
    }
    for (const b of r.blocked)
      this.d.log.info({ session: this.d.sessionId, rule: b.rule.name, line: b.line }, 'command blocked');
    if (r.blocked.length) void this.report();
  }

  /** Sends judged commands to jmp-api; kept and retried when it is away. */
  async report(): Promise<void> {
    if (!this.pending.length) return;
    const batch = this.pending.splice(0, 500);
    try {
      await this.d.api.commands(this.d.sessionId, batch);
    } catch (err) {
      this.pending.unshift(...batch);
      if (this.pending.length > 10_000) this.pending.splice(0, this.pending.length - 10_000);
      this.d.log.warn(
        { session: this.d.sessionId, err: (err as Error).message, queued: this.pending.length },
        'could not store commands yet',
      );
    }
  }

  async close(): Promise<void> {
    this.d.channel.removeListener('data', this.onInput);
    this.d.channel.removeListener('end', this.onEnd);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    clearInterval(this.flusher);
    this.d.guard?.dispose();
    await this.report();
  }
}
