// A database outage is logged once when it starts and once when it ends, not
// once per request; pg's pool reconnects by itself when Postgres returns.
import type { Ctx } from '../context.js';
import type { Db } from '../db/knex.js';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

export function isDbUnavailable(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.name === 'KnexTimeoutError') return true;
  return /Connection terminated|Timeout acquiring a connection|connect ECONNREFUSED|Client has encountered a connection error|terminating connection/i.test(
    e.message ?? '',
  );
}

/** Throws when the database does not answer. */
export async function pingDb(db: Db): Promise<void> {
  await db.raw('SELECT 1');
}

export class DbHealth {
  private isDown = false;
  private probing: NodeJS.Timeout | null = null;
  constructor(private readonly ctx: Ctx) {}

  down(err: unknown): void {
    if (this.isDown) return;
    this.isDown = true;
    this.ctx.log.error({ reason: (err as Error)?.message }, 'database unavailable: answering 503 until it is back');
    this.probing = setInterval(() => void this.probe(), 1000);
    this.probing.unref();
  }

  get healthy(): boolean {
    return !this.isDown;
  }

  async probe(): Promise<boolean> {
    try {
      await pingDb(this.ctx.db);
      if (this.isDown) {
        this.isDown = false;
        if (this.probing) clearInterval(this.probing);
        this.probing = null;
        this.ctx.log.info('database is back');
      }
      return true;
    } catch (err) {
      this.down(err);
      return false;
    }
  }

  stop(): void {
    if (this.probing) clearInterval(this.probing);
  }
}
