// status.json: what `jmp-agent status` shows without asking the daemon
// anything but `ping` — api reachability, snapshot age, last decision,
// degraded modes. Written atomically, at most once a second, and every 5 s
// so its age tells whether the daemon is alive. Readable by all; no secrets.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../persist/atomic.js';
import type { DiskHealth } from '../persist/disk.js';
import { realFs, type FsLayer } from '../persist/fs.js';

export interface AgentStatus {
  version: string;
  pid: number;
  startedAt: string;
  updatedAt: string;
  stoppedAt?: string;
  configPath: string;
  socket: string;
  enrolled: { hostId: number; hostname: string; apiUrl: string } | null;
  api: {
    state: 'unknown' | 'up' | 'down';
    lastOkAt: string | null;
    downSince: string | null;
    lastError: string | null;
  };
  snapshot: {
    generatedAt: string;
    receivedAt: string;
    lastCheckedAt: string | null;
    etag: string;
    users: number;
  } | null;
  lastDecision: { at: string; op: string; user: string; allow: boolean; mode: string } | null;
  /** Active degraded modes: api_unreachable, no_snapshot, disk (memory only), not_enrolled. */
  degraded: string[];
  events: { queued: number; dropped: number };
  spentJti: number;
  guard: { files: number; tampers: number; lastTamper: { at: string; file: string } | null };
}

export class StatusReporter {
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly collect: () => AgentStatus,
    private readonly disk: DiskHealth,
    private readonly fsl: FsLayer = realFs,
  ) {}

  start(): void {
    this.writeNow();
    this.heartbeat = setInterval(() => this.writeNow(), 5000);
    this.heartbeat.unref();
  }

  /** Something changed: write within a second. */
  touch(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.writeNow();
    }, 1000);
    this.timer.unref();
  }

  writeNow(extra: Partial<AgentStatus> = {}): void {
    // Not fsync-ed: it is rewritten every few seconds and only read by
    // `jmp-agent status`; two fsyncs a second on the event loop delayed PAM
    // answers by up to a few milliseconds.
    this.disk.attempt('status', () =>
      writeFileAtomic(this.path, JSON.stringify({ ...this.collect(), ...extra }, null, 2) + '\n', 0o644, this.fsl, {
        durable: false,
      }),
    );
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.writeNow({ stoppedAt: new Date().toISOString() });
  }
}

export function readStatus(path: string): AgentStatus | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as AgentStatus;
  } catch {
    return null;
  }
}
