// Tells people about flagged commands: the user, the user's leader and the jmp
// administrators by e-mail (SMTP), and a webhook. Sent in the background so
// jmp-ssh never waits on a mail server; bounded, failures logged.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '@jmp/runtime';
import type { Db } from '../db/knex.js';

export interface FlaggedCommand {
  sessionId: string;
  user: string;
  host: string;
  line: string;
  verdict: 'alert' | 'block';
  ruleName: string;
  severity: string;
  at: string;
}
export interface NotifyConfig {
  smtpUrl?: string | undefined;
  smtpFrom: string;
  webhookUrl?: string | undefined;
}

const MAX_IN_FLIGHT = 100;

export class Notifier {
  private readonly mail: Transporter | null;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly config: NotifyConfig,
  ) {
    this.mail = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : null;
  }

  commandFlagged(ev: FlaggedCommand): void {
    if (!this.mail && !this.config.webhookUrl) return;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.log.warn({ session: ev.sessionId }, 'notification dropped: too many in flight');
      return;
    }
    this.inFlight++;
    const p = this.send(ev)
      .catch((err) => this.log.error({ err: (err as Error).message, session: ev.sessionId }, 'notification failed'))
      .finally(() => {
        this.inFlight--;
        this.pending.delete(p);
      });
    this.pending.add(p);
  }

  /** Waits for notifications under way (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private async send(ev: FlaggedCommand): Promise<void> {
    const jobs: Promise<unknown>[] = [];
    if (this.mail) {
      const to = await this.recipients(ev.user);
      if (to.length) {
        const what = ev.verdict === 'block' ? 'blocked' : 'flagged';
        jobs.push(
          this.mail.sendMail({
            from: this.config.smtpFrom,
            to,
            subject: `[jmp] ${what}: ${ev.user} on ${ev.host}: ${ev.ruleName} (${ev.severity})`,
            text: `jmp ${what} a command.\n\nuser:     ${ev.user}\nhost:     ${ev.host}\nrule:     ${ev.ruleName} (${ev.severity})\nverdict:  ${ev.verdict}\ntime:     ${ev.at}\nsession:  ${ev.sessionId}\ncommand:  ${ev.line}\n`,
          }),
        );
      }
    }
    if (this.config.webhookUrl) {
      jobs.push(
        fetch(this.config.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'command.flagged', ...ev }),
          signal: AbortSignal.timeout(5000),
        }).then((r) => {
          if (!r.ok) throw new Error(`webhook answered ${r.status}`);
        }),
      );
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }

  private async recipients(username: string): Promise<string[]> {
    const rows = await this.db('users as u')
      .leftJoin('users as l', 'l.id', 'u.leader_id')
      .where('u.username', username)
      .first('u.email as user_email', 'l.email as leader_email');
    const admins = await this.db('users')
      .where({ is_admin: true, status: 'active' })
      .whereNotNull('email')
      .pluck('email');
    return [...new Set([rows?.user_email, rows?.leader_email, ...admins].filter((e): e is string => !!e))];
  }
}
