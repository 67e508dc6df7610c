// Live sessions (administrators and auditors): who is on which host now; watch
// one as it happens (its output only: the screen has no input path, nothing
// typed here is sent anywhere) and, for administrators, end it. Watching is
// audited, and the person is told in one line (JMP_WATCH_NOTICE).
import { Terminal } from '@xterm/xterm';
import type { z } from 'zod';
import type { SessionView, WatchAnswer } from '@jmp/contract/schemas/sessions';
import { get, post } from '../api.js';
import { h, message, setMessage, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { heading, time } from './common.js';
import { actionButton } from './forms.js';

type Session = z.infer<typeof SessionView>;
type Watch = z.infer<typeof WatchAnswer>;
const POLL_MS = 100;

function decode(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export const livePage: Page = {
  title: 'Live sessions',
  async render(main, _params, signal) {
    const admin = !!currentUser()?.isAdmin;
    const list = h('div');
    const viewer = h('section', { class: 'watch', 'aria-labelledby': 'watch-h', hidden: true });
    let stopWatch: (() => void) | null = null;
    signal.addEventListener('abort', () => stopWatch?.());

    const watchSession = (s: Session) => {
      stopWatch?.();
      const status = message();
      const screen = h('div', { class: 'watch-screen', 'data-session': s.id });
      viewer.hidden = false;
      viewer.replaceChildren(
        h('h2', { id: 'watch-h', tabindex: '-1' }, `Watching ${s.user ?? '?'} on ${s.host ?? '?'} (read-only)`),
        status,
        screen,
      );
      const term = new Terminal({ disableStdin: true, cursorBlink: false, convertEol: false, rows: 24, cols: 100 });
      term.open(screen);
      setMessage(status, 'Waiting for output…', 'ok');
      let after: number | undefined;
      let stopped = false;
      const poll = async () => {
        while (!stopped) {
          try {
            const w = await get<Watch>(`/v1/sessions/${s.id}/watch`, { after });
            if (stopped) return;
            for (const c of w.chunks) term.write(decode(c));
            after = w.next;
            if (!w.live) {
              setMessage(status, 'The session has ended.');
              return;
            }
            setMessage(status, 'Live: output appears as it happens.', 'ok');
          } catch (err) {
            setMessage(status, (err as Error).message);
            return;
          }
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      };
      stopWatch = () => {
        stopped = true;
        term.dispose();
      };
      void poll();
      viewer.querySelector<HTMLElement>('h2')?.focus();
    };

    const load = async () => {
      const r = await get<{ items: Session[] }>('/v1/sessions', { limit: 500 });
      if (signal.aborted) return;
      const live = r.items.filter((s) => s.live);
      list.replaceChildren(
        h('p', { class: 'count' }, `${live.length} live sessions`),
        table(
          'Live sessions',
          ['Who', 'Host', 'Since', 'From', ''],
          live.map((s) => [
            h('strong', {}, s.user ?? '—'),
            s.host ?? '—',
            time(s.startedAt),
            s.sourceAddress ?? '—',
            h(
              'div',
              { class: 'inline-actions' },
              h(
                'button',
                {
                  type: 'button',
                  'aria-label': `Watch ${s.user ?? ''} on ${s.host ?? ''}`,
                  onclick: () => watchSession(s),
                },
                'Watch',
              ),
              admin &&
                actionButton(
                  'Terminate',
                  `Terminate ${s.user ?? ''} on ${s.host ?? ''}`,
                  async () => {
                    await post(`/v1/sessions/${s.id}/terminate`, { reason: 'ended by an administrator' });
                    toast(`The session of ${s.user} on ${s.host} ends within a few seconds.`);
                    setTimeout(() => void load(), 2500);
                  },
                  toast,
                  'danger',
                ),
            ),
          ]),
          { empty: 'Nobody is on a host through jmp right now.' },
        ),
      );
    };
    const refresh = h('button', { type: 'button', onclick: () => void load() }, 'Refresh');
    main.append(heading('Live sessions', refresh), list, viewer);
    await load();
  },
};
