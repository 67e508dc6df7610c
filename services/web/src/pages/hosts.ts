// My hosts: what the person may log in to (and where they are root), with a
// search box; each opens a terminal tab.
import { agentLiveness, environmentLabel, type MyHost } from '@jmp/contract/schemas/access';
import { get } from '../api.js';
import { field, h, table } from '../dom.js';
import type { Page } from '../router.js';
import { badge, heading } from './common.js';

export function matchesHost(host: MyHost, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return [host.hostname, ...host.addresses, host.service ?? '', host.project ?? ''].some((s) =>
    s.toLowerCase().includes(q),
  );
}

/** Production or not: the host's environment, never whether it is reachable. */
export const environmentBadge = (state: MyHost['state']): HTMLElement =>
  badge(environmentLabel(state), state === 'online' ? 'prod' : 'muted');

/** The agent's liveness apart from the environment: a word, and last seen, version and fail mode in full. */
export function agentCell(agent: MyHost['agent']): HTMLElement {
  const a = agentLiveness(agent);
  return h(
    'span',
    { 'data-agent': a.word },
    badge(a.word, a.word === 'ok' ? 'ok' : a.word === 'silent' ? 'warn' : 'muted'),
    h('small', { class: 'agent-detail' }, ` ${a.text.replace(/^agent /, '')}`),
  );
}

export const hostsPage = (openTerminal: (host: string | null) => void): Page => ({
  title: 'My hosts',
  async render(main, _params, signal) {
    const { hosts } = await get<{ hosts: MyHost[] }>('/v1/me/hosts');
    if (signal.aborted) return;
    const search = h('input', {
      type: 'search',
      name: 'q',
      placeholder: 'name, address, service or project',
      autocomplete: 'off',
    });
    const count = h('p', { class: 'count', 'aria-live': 'polite' });
    const list = h('div');
    const menuButton = h('button', { type: 'button', onclick: () => openTerminal(null) }, 'Open the jump menu');
    const draw = () => {
      const shown = hosts.filter((x) => matchesHost(x, search.value));
      count.textContent = `${shown.length} of ${hosts.length} hosts`;
      list.replaceChildren(
        table(
          'My hosts',
          ['Host', 'Address', 'Service', 'Environment', 'Agent', 'Access', ''],
          shown.map((x) => [
            h('strong', {}, x.hostname),
            x.addresses.join(', '),
            [x.project, x.service].filter(Boolean).join(' / ') || '—',
            environmentBadge(x.state),
            agentCell(x.agent),
            h(
              'span',
              {},
              x.root ? badge('login + root', 'warn') : badge('login', 'ok'),
              x.reason ? h('small', { class: 'origin' }, ` ${x.reason}`) : null,
            ),
            h(
              'span',
              { class: 'actions' },
              h(
                'button',
                {
                  type: 'button',
                  class: 'primary',
                  'data-host': x.hostname,
                  'aria-label': `Open a terminal on ${x.hostname}`,
                  onclick: () => openTerminal(x.hostname),
                },
                'Terminal',
              ),
              h(
                'a',
                {
                  class: 'button',
                  href: `#/desktop/${encodeURIComponent(x.hostname)}`,
                  'aria-label': `Open the desktop of ${x.hostname}`,
                },
                'Desktop',
              ),
            ),
          ]),
          {
            empty: hosts.length
              ? 'No host matches your search.'
              : 'You have no hosts yet. Ask for access on the Requests page.',
          },
        ),
      );
    };
    search.addEventListener('input', draw);
    draw();
    main.append(
      heading('My hosts', menuButton),
      h(
        'form',
        { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
        field('Search', search),
      ),
      count,
      list,
    );
  },
});
