// A database terminal on a host (DESIGN flow 9): an ordinary target session
// (ticket → sshd → pam_jmp, as the person, recorded) whose command is the
// agent's client (`jmp-agent db mariadb|redis`). The target's client has no
// terminal: jmp-ssh edits the line (db-editor.ts) and the guard (DbGuard)
// hands it whole statements or commands, each judged before it is sent, so a
// blocked one never reaches the client or the server. A person without the
// right is refused before any login on the target.
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { ServerChannel } from 'ssh2';
import type { MyHost } from '@jmp/contract/schemas/access';
import type { CommandRecord } from '@jmp/contract/schemas/sessions';
import { DbGuard, type DbDialect } from '@jmp/guard';
import type { StdinResult } from '@jmp/guard';
import { commandRecord } from '../session/guarded-pipe.js';
import { endRecordedSession, startRecording, startTargetSession } from '../session/session-steps.js';
import { untilTargetEnds } from '../session/target-end.js';
import type { SessionCtx } from '../session/target-session.js';
import { DbEditor } from './db-editor.js';

export const DB_NAMES: Readonly<Record<DbDialect, string>> = { mariadb: 'MariaDB', redis: 'Redis' };
/** Quiet time after the client's last output before the prompt comes back. */
const PROMPT_AFTER_MS = 40;

const crlf = (b: Buffer | string) => Buffer.from(b.toString('utf8').replace(/\r?\n/gu, '\r\n'));

export async function databaseSession(
  channel: ServerChannel,
  host: MyHost,
  kind: DbDialect,
  ctx: SessionCtx,
): Promise<number> {
  const pty = ctx.pty();
  const name = DB_NAMES[kind];
  const say = (msg: string) => (pty ? channel : channel.stderr).write(`jmp: ${msg}\r\n`);
  const right = host.databases?.find((d) => d.kind === kind);
  if (!right) {
    ctx.log.info({ user: ctx.user, host: host.hostname, kind }, 'database session refused: no right');
    say(`you have no ${name} right on ${host.hostname}; request one in jmp`);
    return 1;
  }
  const id = randomUUID();
  const record = { id, user: ctx.user, host: host.hostname, source: ctx.source };
  const target = await startTargetSession(
    ctx,
    record,
    { port: ctx.config.targetPort, command: `${ctx.config.dbCommand ?? 'jmp-agent db'} ${kind}`, env: {} },
    say,
  );
  if (!target) return 1;
  ctx.log.info({ user: ctx.user, host: host.hostname, session: id, kind }, 'database session started');
  const rec = startRecording(ctx, id, host.hostname, pty);
  const { channel: remote } = target;
  const guard = new DbGuard({ dialect: kind });
  const editor = pty ? new DbEditor() : null;
  // A character split over two chunks must not become two replacement characters.
  const keys = new StringDecoder('utf8');
  let bytesIn = 0;
  let bytesOut = 0;
  const pending: CommandRecord[] = [];
  const report = async () => {
    if (!pending.length) return;
    const batch = pending.splice(0, pending.length);
    await ctx.api.commands(id, batch).catch((err: unknown) => {
      pending.unshift(...batch);
      ctx.log.warn({ session: id, err }, 'could not store database commands yet');
    });
  };
  const show = (b: Buffer, stderr = false) => {
    if (!b.length) return;
    const out = pty ? crlf(b) : b;
    if (!channel.destroyed) (stderr && !pty ? channel.stderr : channel).write(out);
    rec.output(out);
  };
  const prompt = () => (guard.pending ? '    -> ' : `${name} ${host.hostname}> `);
  let promptTimer: NodeJS.Timeout | null = null;
  const promptSoon = (ms = PROMPT_AFTER_MS) => {
    if (!editor) return;
    if (promptTimer) clearTimeout(promptTimer);
    promptTimer = setTimeout(() => {
      promptTimer = null;
      show(Buffer.from(prompt() + editor.line));
    }, ms);
  };
  const apply = (r: StdinResult) => {
    if (r.forward.length) remote.write(r.forward);
    show(r.toUser, true);
    for (const j of r.judged) {
      pending.push(commandRecord(j));
      if (j.verdict !== 'pass') rec.marker(`${j.verdict}: ${j.line}`);
    }
    for (const b of r.blocked)
      ctx.log.info({ session: id, rule: b.rule.name, line: b.line.slice(0, 200) }, 'database command blocked');
    if (r.judged.length) void report();
    // Something was sent: the prompt waits for its answer; otherwise it comes back at once.
    promptSoon(r.forward.length ? 4 * PROMPT_AFTER_MS : 0);
  };
  const onInput = (d: Buffer) => {
    ctx.touch();
    bytesIn += d.length;
    rec.input(d);
    if (!editor) return apply(guard.input(d));
    for (const e of editor.feed(keys.write(d))) {
      if (e.type === 'echo') show(Buffer.from(e.text));
      else if (e.type === 'line') apply(guard.input(Buffer.from(`${e.text}\n`)));
      else if (e.type === 'interrupt') {
        // Nothing of the statement being typed was sent: dropping it here is all Ctrl-C needs to do.
        guard.interrupt();
        promptSoon(0);
      } else {
        apply(guard.end());
        remote.end();
      }
    }
  };
  const onEnd = () => {
    apply(guard.end());
    remote.end();
  };
  channel.on('data', onInput);
  channel.on('end', onEnd);
  remote.on('data', (b: Buffer) => {
    bytesOut += b.length;
    show(b);
    promptSoon();
  });
  remote.stderr.on('data', (b: Buffer) => {
    bytesOut += b.length;
    show(b, true);
    promptSoon();
  });
  if (pty)
    show(
      Buffer.from(
        `${name} on ${host.hostname} as ${ctx.user} (${right.level}). jmp checks each ${kind === 'mariadb' ? 'statement' : 'command'} before it is sent; Ctrl-C drops the one being typed, Ctrl-D leaves.\n`,
      ),
    );
  promptSoon(0);

  const { code, endReason } = await untilTargetEnds({ id, channel, target, sessions: ctx.sessions, notice: say });
  channel.removeListener('data', onInput);
  channel.removeListener('end', onEnd);
  target.close();
  await report();
  await endRecordedSession(ctx, id, rec, endReason, { bytesIn, bytesOut });
  ctx.log.info(
    { user: ctx.user, host: host.hostname, session: id, exit: code, reason: endReason },
    'database session ended',
  );
  return code;
}
