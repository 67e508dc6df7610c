// Sessions: one's own, or everyone's for administrators and auditors, with
// filters kept in the address (#/sessions?host=h1&verdict=block) so a view can
// be reloaded or shared.
import { get } from '../api.js';
import { field, h, select, table } from '../dom.js';
import { navigate, type Page } from '../router.js';
import { currentUser, isReader } from '../session-store.js';
import { badge, bytes, heading, time } from './common.js';

export interface SessionView {
  id: string;
  user: string | null;
  host: string | null;
  protocol: string;
  sourceAddress: string | null;
  startedAt: string;
  endedAt: string | null;
  bytesIn: number;
  bytesOut: number;
  endReason: string | null;
  recordingUri: string | null;
  live: boolean;
}

/** A yyyy-mm-dd day from a date input → the ISO time of its local midnight (plus `days`). */
export function dayStart(day: string, days = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days).toISOString();
}

const hashQuery = () => new URLSearchParams(location.hash.split('?')[1] ?? '');

export const sessionsPage: Page = {
  title: 'Sessions',
  async render(main, _params, signal) {
    const q = hashQuery();
    const everyone = isReader(currentUser());
    const user = h('input', { name: 'user', value: q.get('user') ?? '', autocomplete: 'off', spellcheck: 'false' });
    const host = h('input', { name: 'host', value: q.get('host') ?? '', autocomplete: 'off', spellcheck: 'false' });
    const since = h('input', { name: 'since', type: 'date', value: q.get('since') ?? '' });
    const until = h('input', { name: 'until', type: 'date', value: q.get('until') ?? '' });
    const verdict = select(
      'verdict',
      [
        ['', 'any'],
        ['block', 'blocked'],
        ['alert', 'alerted'],
        ['pass', 'passed'],
        ['skipped', 'guard skipped'],
      ],
      q.get('verdict') ?? '',
    );
    const form = h(
      'form',
      { class: 'filters', 'aria-label': 'Filter sessions' },
      everyone ? field('User', user) : null,
      field('Host', host),
      field('From', since),
      field('To', until),
      field('Command verdict', verdict),
      h('button', { type: 'submit' }, 'Filter'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const p = new URLSearchParams();
      for (const el of [user, host, since, until, verdict])
        if (el.value.trim() && (el !== user || everyone)) p.set(el.name, el.value.trim());
      navigate(`/sessions${p.size ? `?${p}` : ''}`);
    });
    main.append(heading(everyone ? 'Sessions (everyone)' : 'My sessions'), form);

    const query: Record<string, string | undefined> = {
      user: everyone ? q.get('user') || undefined : undefined,
      host: q.get('host') || undefined,
      verdict: q.get('verdict') || undefined,
      since: dayStart(q.get('since') ?? ''),
      until: dayStart(q.get('until') ?? '', 1),
      limit: '200',
    };
    const r = await get<{ items: SessionView[]; total: number }>('/v1/sessions', query);
    if (signal.aborted) return;
    main.append(
      h(
        'p',
        { class: 'count' },
        `${r.total} session${r.total === 1 ? '' : 's'}${r.total > r.items.length ? `, newest ${r.items.length} shown` : ''}`,
      ),
      table(
        'Sessions',
        ['Started', 'User', 'Host', 'Via', 'Ended', 'Output', ''],
        r.items.map((s) => [
          time(s.startedAt),
          s.user ?? '—',
          s.host ?? '—',
          s.protocol,
          s.live
            ? badge('live', 'ok')
            : s.endedAt
              ? `${time(s.endedAt)}${s.endReason ? ` (${s.endReason})` : ''}`
              : badge('no end recorded', 'muted'),
          bytes(s.bytesOut),
          h(
            'a',
            {
              // Desktops replay in Guacamole's player, terminals in asciinema's.
              href: s.protocol === 'rdp' ? `#/desktop-replay/${s.id}` : `#/sessions/${s.id}`,
              class: 'button',
              'aria-label': `Replay the session of ${s.user ?? '?'} on ${s.host ?? '?'} started ${time(s.startedAt)}`,
            },
            'Replay',
          ),
        ]),
        { empty: 'No session matches.' },
      ),
    );
  },
};
