// Wires a person's channel to a target channel through the command guard and
// the recorder. The guard decides what reaches the target; everything the
// person sees is recorded; judged commands go to jmp-api in batches.
import type { ClientChannel, ServerChannel } from 'ssh2';
import type { ApiClient, Logger } from '@jmp/common';
import type { CommandRecord } from '@jmp/common/contract/sessions';
import type { CommandGuard, GuardResult, JudgedLine } from '../guard/index.js';
import type { SessionRecording } from '../recording/index.js';

export interface PipeDeps {
  sessionId: string; api: ApiClient; log: Logger;
  channel: ServerChannel; remote: ClientChannel; guard: CommandGuard | null; rec: SessionRecording;
  touch(): void;
}

export function commandRecord(j: JudgedLine, at = new Date()): CommandRecord {
  const rule = j.rules.find((r) => r.action === 'block') ?? j.rules[0];
  const verdict = j.skipped ? 'skipped' : j.verdict;
  return { at: at.toISOString(), line: j.line, verdict, ...(typeof rule?.id === 'number' ? { ruleId: rule.id } : {}), ...(rule ? { ruleName: rule.name, severity: rule.severity } : {}) };
}

export class GuardedPipe {
  bytesIn = 0;
  bytesOut = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private pending: CommandRecord[] = [];
  private readonly flusher: NodeJS.Timeout;
  private readonly onInput = (d: Buffer) => {
    this.d.touch();
    this.bytesIn += d.length;
    this.d.rec.input(d);
    if (!this.d.guard) this.d.remote.write(d);
    else this.apply(this.d.guard.input(d));
  };

  constructor(private readonly d: PipeDeps) {
    d.channel.on('data', this.onInput);
    d.remote.on('data', (buf: Buffer) => {
      d.touch();
      this.bytesOut += buf.length;
      d.channel.write(buf);
      d.rec.output(buf);
      const released = d.guard?.output(buf);
      if (released) this.apply(released);
    });
    d.remote.stderr.on('data', (buf: Buffer) => { this.bytesOut += buf.length; d.channel.stderr.write(buf); d.rec.output(buf); });
    this.flusher = setInterval(() => void this.report(), 1000);
    this.flusher.unref();
  }

  private apply(r: GuardResult): void {
    if (r.forward.length) this.d.remote.write(r.forward);
    if (r.toUser.length) { this.d.channel.write(r.toUser); this.d.rec.output(r.toUser); }
    for (const j of r.judged) {
      this.pending.push(commandRecord(j));
      if (j.verdict !== 'pass' || j.skipped) this.d.rec.marker(`${j.skipped ? 'skipped' : j.verdict}: ${j.line}`);
    }
    if (r.blocked) this.d.log.info({ session: this.d.sessionId, rule: r.blocked.rule.name, line: r.blocked.line }, 'command blocked');
    if (this.holdTimer) { clearTimeout(this.holdTimer); this.holdTimer = null; }
    if (r.hold) {
      this.holdTimer = setTimeout(() => { this.holdTimer = null; const f = this.d.guard?.flush(); if (f) this.apply(f); }, r.holdMs);
    }
    if (r.blocked) void this.report();
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
      this.d.log.warn({ session: this.d.sessionId, err: (err as Error).message, queued: this.pending.length }, 'could not store commands yet');
    }
  }

  async close(): Promise<void> {
    this.d.channel.removeListener('data', this.onInput);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    clearInterval(this.flusher);
    this.d.guard?.dispose();
    await this.report();
  }
}
