// One session on a target, piped between the person's channel and the
// target's through the command guard and the recorder: registered, tracked
// and ended through the session controller (which owns the per-person limit).
import { randomUUID } from 'node:crypto';
import type { PseudoTtyInfo, ServerChannel } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { MyHost } from '@jmp/contract/schemas/access';
import type { SshConfig } from '../config.js';
import { CommandGuard, StdinLineGuard, blockReason, judgeScript, type GuardEvent } from '@jmp/guard';
import { recordingDefaults, type Recordings } from '@jmp/recording';
import type { SessionController } from './controller.js';
import { loadRules } from './host-rules.js';
import { commandRecord } from './guarded-pipe.js';
import { endRecordedSession, pipeSession, startRecording, startTargetSession } from './session-steps.js';
import { untilTargetEnds } from './target-end.js';
import { WatchTap, tapped } from './watch-tap.js';

export interface SessionCtx {
  api: ApiClient;
  config: SshConfig;
  log: Logger;
  sessions: SessionController;
  recordings: Recordings;
  user: string;
  source: string;
  env: Record<string, string>;
  pty(): PseudoTtyInfo | undefined;
  setResize(f: ((p: PseudoTtyInfo) => void) | null): void;
  touch(): void;
}

/** Runs one target session over `channel`; resolves with the remote exit code. */
export async function targetSession(
  channel: ServerChannel,
  host: MyHost,
  command: string | undefined,
  ctx: SessionCtx,
): Promise<number> {
  const pty = ctx.pty();
  const id = randomUUID();
  const notice = (msg: string) => (pty ? channel : channel.stderr).write(`jmp: ${msg}\r\n`);
  // Every session is judged: no rules, no session (unless the operator chose JMP_SSH_GUARD_FAIL_OPEN).
  const rules = await loadRules(ctx.api, host.hostname, ctx.log);
  if (!rules && ctx.config.guardFailOpen !== true) {
    ctx.log.warn({ user: ctx.user, host: host.hostname }, 'session refused: the guard rules could not be loaded');
    notice(
      `the command rules for ${host.hostname} could not be loaded, so the session cannot be checked; try again shortly`,
    );
    return 1;
  }

  const failOpen = ctx.config.guardFailOpen === true;
  const onEvent = (e: GuardEvent) => {
    if (e.type === 'guard_skipped' || e.type === 'guard_refused') {
      ctx.log.warn(
        { session: id, reason: e.reason, elapsedMs: e.elapsedMs },
        e.type === 'guard_skipped' ? 'guard skipped a command' : 'guard refused a command it could not check',
      );
    }
  };
  // A one-shot command is judged before anything reaches the target: whole, and as the shell reads its lines.
  // Like every line, one that cannot be checked in time is refused unless JMP_SSH_GUARD_FAIL_OPEN.
  const judgedCommand =
    command === undefined
      ? []
      : judgeScript(command, { rules, budgetMs: 50, failOpen, now: () => performance.now(), onEvent });
  const blockedBy = judgedCommand.find((j) => j.verdict === 'block');
  const record = { id, user: ctx.user, host: host.hostname, source: ctx.source };
  if (command !== undefined && blockedBy) {
    await ctx.sessions.recordBlocked(
      record,
      judgedCommand.map((j) => commandRecord(j)),
    );
    const rule = blockedBy.rules.find((r) => r.action === 'block') ?? blockedBy.rules[0];
    notice(`${(rule ? blockReason(rule) : 'jmp: blocked').replace(/^jmp: /u, '')}: ${command}`);
    return 1;
  }

  const target = await startTargetSession(
    ctx,
    record,
    {
      port: ctx.config.targetPort,
      command,
      env: ctx.env,
      pty: pty ? { term: pty.term, cols: pty.cols, rows: pty.rows, width: pty.width, height: pty.height } : undefined,
    },
    notice,
  );
  if (!target) return 1;
  ctx.log.info({ user: ctx.user, host: host.hostname, session: id, source: ctx.source }, 'target session started');

  // What a watcher in the console sees: the same bytes as the recording, from the moment the watch starts.
  const tap = new WatchTap(id, ctx.api, ctx.log, (text) => channel.write(text));
  const rec = tapped(startRecording(ctx, id, host.hostname, pty), tap);
  // The command (if any) was judged above as one line; what the person sends
  // after it starts is judged too: on a terminal, the lines read from the
  // guard's copy of the screen; without one, the stdin lines before they are
  // sent. A command that starts a shell (`bash -i`, `python -c 'import pty…'`)
  // is therefore guarded like a shell.
  const guard = pty ? new CommandGuard({ cols: pty.cols, rows: pty.rows, rules, failOpen, onEvent }) : null;
  const lines = pty ? null : new StdinLineGuard({ rules, failOpen, onEvent });
  if (judgedCommand.length > 0) {
    void ctx.api
      .commands(
        id,
        judgedCommand.map((j) => commandRecord(j)),
      )
      .catch((err) => ctx.log.warn({ err: (err as Error).message }, 'could not store the command'));
  }

  const { channel: remote } = target;
  // The target waits while the recorder catches up, well before the recorder would have to drop output.
  const recordingHighWater = Math.min(
    4 * 1024 * 1024,
    (ctx.config.recording.maxBacklogBytes ?? recordingDefaults.maxBacklogBytes) / 2,
  );
  const pipe = pipeSession(ctx, { sessionId: id, channel, remote, guard, lines, rec, recordingHighWater });
  const { code, endReason } = await untilTargetEnds({ id, channel, target, sessions: ctx.sessions, notice, tap });
  ctx.setResize(null);
  target.close();
  await pipe.close();
  const recording = await endRecordedSession(ctx, id, rec, endReason, pipe);
  ctx.log.info(
    { user: ctx.user, host: host.hostname, session: id, exit: code, reason: endReason, recording: recording.uri },
    'target session ended',
  );
  return code;
}
