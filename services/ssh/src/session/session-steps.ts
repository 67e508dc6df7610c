// The steps every recorded session through jmp-ssh takes, whatever runs in it
// (a shell or command on a host, a database client, a network device):
// registered, the target opened, recorded, piped with resizes followed, and
// ended on record. One place, so the three session kinds cannot drift apart.
import type { RecordingResult, SessionRecording } from '@jmp/recording';
import { openTarget, TargetError, type TargetOptions, type TargetSession } from '@jmp/ssh-target';
import { GuardedPipe, type PipeDeps } from './guarded-pipe.js';
import type { SessionCtx } from './target-session.js';

/**
 * Registers the session (the per-person limit holds across every jmp-ssh, and a
 * refused target login is on record too), then logs in on the target. On a
 * refusal it tells the person why, ends the record and resolves null.
 */
export async function startTargetSession(
  ctx: SessionCtx,
  record: { id: string; user: string; host: string; source: string },
  opts: Omit<TargetOptions, 'session'>,
  say: (msg: string) => void,
): Promise<TargetSession | null> {
  const refusal = await ctx.sessions.start(record);
  if (refusal) {
    say(refusal.refused);
    return null;
  }
  try {
    return await openTarget(ctx.api, ctx.user, record.host, { ...opts, session: record.id });
  } catch (err) {
    const msg = err instanceof TargetError ? err.message : `unexpected error: ${(err as Error).message}`;
    ctx.log.info({ user: ctx.user, host: record.host, reason: msg }, 'target login refused');
    say(msg);
    await ctx.sessions.end(record.id, { bytesIn: 0, bytesOut: 0, endReason: 'target refused' });
    return null;
  }
}

/** Starts the session's recording at the person's terminal size (80x24 `dumb` without a terminal). */
export function startRecording(
  ctx: SessionCtx,
  sessionId: string,
  host: string,
  pty: { cols: number; rows: number; term: string } | undefined,
): SessionRecording {
  return ctx.recordings.start({
    sessionId,
    user: ctx.user,
    host,
    width: pty?.cols ?? 80,
    height: pty?.rows ?? 24,
    term: pty?.term ?? 'dumb',
    startedAt: new Date(),
  });
}

/** Pipes the person's channel and the target's through the guard and the recorder, following terminal resizes. */
export function pipeSession(ctx: SessionCtx, o: Omit<PipeDeps, 'api' | 'log' | 'touch'>): GuardedPipe {
  const pipe = new GuardedPipe({ ...o, api: ctx.api, log: ctx.log, touch: ctx.touch });
  ctx.setResize((p) => {
    o.remote.setWindow(p.rows, p.cols, p.height, p.width);
    o.guard?.resize(p.cols, p.rows);
    o.rec.resize(p.cols, p.rows);
  });
  return pipe;
}

/** Closes the recording and ends the session on record with its byte counts and the recording's address. */
export async function endRecordedSession(
  ctx: SessionCtx,
  id: string,
  rec: SessionRecording,
  endReason: string,
  bytes: { bytesIn: number; bytesOut: number },
): Promise<RecordingResult> {
  const recording = await rec.close(endReason);
  await ctx.sessions.end(id, {
    bytesIn: bytes.bytesIn,
    bytesOut: bytes.bytesOut,
    endReason,
    ...(recording.uri ? { recordingUri: recording.uri } : {}),
  });
  return recording;
}
