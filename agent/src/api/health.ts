// Is jmp-api answering? Every call's outcome feeds this; the transitions
// (up → down, down → up) become `degraded` / `recovered` events.
export type ApiState = 'unknown' | 'up' | 'down';

export interface ApiTransition {
  up: boolean;
  /** down: what failed. */
  error?: string;
  /** up: since when it had been down. */
  downSince?: Date;
}

export class ApiHealth {
  state: ApiState = 'unknown';
  lastOkAt: Date | null = null;
  lastError: string | null = null;
  downSince: Date | null = null;

  constructor(
    private readonly onChange: (t: ApiTransition) => void = () => {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  ok(): void {
    this.lastOkAt = this.now();
    if (this.state === 'up') return;
    const was = this.state;
    const since = this.downSince;
    this.state = 'up';
    this.downSince = null;
    if (was === 'down' && since) this.onChange({ up: true, downSince: since });
  }

  down(error: string): void {
    this.lastError = error;
    if (this.state === 'down') return;
    this.state = 'down';
    this.downSince = this.now();
    this.onChange({ up: false, error });
  }
}
