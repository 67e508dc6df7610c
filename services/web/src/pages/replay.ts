// One session: the recording in asciinema-player, and its commands beside it;
// a click on a command seeks the player to the moment it was submitted.
import type { Player } from './player.js';
import { ApiError, get } from '../api.js';
import { h, message, setMessage } from '../dom.js';
import type { Page } from '../router.js';
import { badge, heading, time } from './common.js';
import type { SessionView } from './sessions.js';

interface CommandView {
  id: number;
  at: string;
  line: string;
  verdict: 'pass' | 'alert' | 'block' | 'skipped';
  ruleId: number | null;
}

/** The session start from the recording's header (unix seconds): event times count from it. */
export function recordingStart(cast: string): number | null {
  const first = cast.slice(0, cast.indexOf('\n') >>> 0);
  try {
    const h = JSON.parse(first) as { version?: number; timestamp?: number };
    return h.version === 2 && typeof h.timestamp === 'number' ? h.timestamp : null;
  } catch {
    return null;
  }
}

async function fetchRecording(id: string): Promise<string> {
  const res = await fetch(`/v1/sessions/${encodeURIComponent(id)}/recording`, { credentials: 'same-origin' });
  if (!res.ok) {
    let msg = `the recording could not be loaded (${res.status})`;
    try {
      msg = ((await res.json()) as { error: { message: string } }).error.message;
    } catch {
      /* keep */
    }
    throw new ApiError(res.status, 'recording', msg);
  }
  return res.text();
}

const VERDICT_KIND = { pass: 'muted', alert: 'warn', block: 'bad', skipped: 'warn' } as const;

export const replayPage: Page = {
  title: 'Replay',
  async render(main, params, signal) {
    const id = params.id!;
    const { session: s, commands } = await get<{ session: SessionView; commands: CommandView[] }>(
      `/v1/sessions/${encodeURIComponent(id)}`,
    );
    if (signal.aborted) return;
    main.append(
      heading(
        `Session of ${s.user ?? '?'} on ${s.host ?? '?'}`,
        h('a', { href: '#/sessions', class: 'button' }, 'All sessions'),
      ),
      h(
        'p',
        { class: 'meta' },
        `Started ${time(s.startedAt)} · ${s.live ? 'live' : s.endedAt ? `ended ${time(s.endedAt)}${s.endReason ? ` (${s.endReason})` : ''}` : 'no end recorded'} · via ${s.protocol}${s.sourceAddress ? ` from ${s.sourceAddress}` : ''}`,
      ),
    );
    const playerBox = h('div', { class: 'player', 'aria-label': 'Recording' });
    const msg = message();
    const list = h('ol', { class: 'commands', 'aria-label': 'Commands' });
    main.append(
      h(
        'div',
        { class: 'replay' },
        h('div', { class: 'replay-main' }, msg, playerBox),
        h(
          'section',
          { class: 'replay-side', 'aria-labelledby': 'cmd-head' },
          h('h2', { id: 'cmd-head' }, `Commands (${commands.length})`),
          list,
        ),
      ),
    );

    let player: Player | null = null;
    let start: number | null = null;
    signal.addEventListener('abort', () => player?.dispose());
    for (const c of commands) {
      const b = h(
        'button',
        { type: 'button', class: 'command', 'data-verdict': c.verdict, disabled: true },
        h('span', { class: 'at' }, new Date(c.at).toLocaleTimeString()),
        h('code', {}, c.line),
        c.verdict === 'pass' ? null : badge(c.verdict, VERDICT_KIND[c.verdict]),
      );
      b.addEventListener('click', async () => {
        if (!player || start === null) return;
        // The header's timestamp is whole seconds, so this lands up to 1 s
        // after the Enter: the command line is on the screen, never before it.
        const offset = Math.max(0, Date.parse(c.at) / 1000 - start);
        await player.seek(Math.min(offset, player.getDuration() ?? offset));
        for (const x of list.querySelectorAll('.command[aria-current]')) x.removeAttribute('aria-current');
        b.setAttribute('aria-current', 'true');
      });
      list.append(h('li', {}, b));
    }
    if (!commands.length) list.append(h('li', { class: 'empty' }, 'No command was recorded.'));

    if (!s.recordingUri) {
      setMessage(
        msg,
        s.live
          ? 'This session is still running; its recording can be replayed once it ends.'
          : 'This session has no recording.',
      );
      return;
    }
    try {
      const [cast, { create }] = await Promise.all([fetchRecording(id), import('./player.js')]);
      if (signal.aborted) return;
      start = recordingStart(cast);
      player = create({ data: cast }, playerBox, {
        fit: 'width',
        preload: true,
        terminalFontFamily: '"DejaVu Sans Mono", monospace',
        controls: true,
      });
      for (const b of list.querySelectorAll<HTMLButtonElement>('button.command')) b.disabled = start === null;
    } catch (err) {
      setMessage(msg, (err as Error).message);
    }
  },
};
