// Hosts with their agent's status: when it was last seen, whether it runs
// degraded, and the tamper events it reported (from the audit log).
import type { AdminHost, AuditEntry } from '@jmp/contract/schemas/admin';
import { get } from '../api.js';
import { field, h, table } from '../dom.js';
import type { Page } from '../router.js';
import { badge, heading, time } from './common.js';

/** An agent polls policy every few seconds; one not heard from in this long is marked silent. */
export const SILENT_AFTER_MS = 5 * 60_000;

export function agentState(
  host: Pick<AdminHost, 'enrolled' | 'lastSeenAt' | 'agentStatus'>,
  now = Date.now(),
): { text: string; kind: string } {
  if (!host.enrolled) return { text: 'not enrolled', kind: 'muted' };
  if (host.agentStatus.degraded === true) return { text: 'degraded', kind: 'bad' };
  if (!host.lastSeenAt || now - Date.parse(host.lastSeenAt) > SILENT_AFTER_MS) return { text: 'silent', kind: 'warn' };
  return { text: 'ok', kind: 'ok' };
}

export const adminHostsPage: Page = {
  title: 'Hosts',
  async render(main, _params, signal) {
    const q = h('input', { type: 'search', name: 'q', autocomplete: 'off' });
    const list = h('div');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const [hosts, tamper] = await Promise.all([
        get<{ items: AdminHost[]; total: number }>('/v1/hosts', { q: q.value.trim() || undefined, limit: 500 }),
        get<{ items: AuditEntry[] }>('/v1/audit', { action: 'agent.tamper', limit: 500 }),
      ]);
      if (signal.aborted) return;
      const byHost = new Map<string, AuditEntry[]>();
      for (const e of tamper.items) byHost.set(e.target, [...(byHost.get(e.target) ?? []), e]);
      list.replaceChildren(
        h('p', { class: 'count' }, `${hosts.total} hosts`),
        table(
          'Hosts',
          ['Host', 'Addresses', 'State', 'Agent', 'Last seen', 'Tamper events'],
          hosts.items.map((x) => {
            const st = agentState(x);
            const events = byHost.get(x.hostname) ?? [];
            return [
              h('strong', {}, x.hostname),
              x.addresses.join(', ') || '—',
              badge(x.state, x.state === 'online' ? 'ok' : 'muted'),
              h('span', { 'data-agent': st.text }, badge(st.text, st.kind)),
              time(x.lastSeenAt),
              events.length
                ? h(
                    'details',
                    {},
                    h('summary', {}, badge(`${events.length}${events.length === 500 ? '+' : ''}`, 'bad')),
                    h(
                      'ul',
                      {},
                      ...events
                        .slice(0, 20)
                        .map((e) =>
                          h('li', {}, `${time(e.at)}: ${String(e.data.file ?? e.data.path ?? JSON.stringify(e.data))}`),
                        ),
                    ),
                  )
                : 'none',
            ];
          }),
          { empty: 'No host matches.' },
        ),
      );
    };
    q.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 250);
    });
    main.append(
      heading('Hosts'),
      h('form', { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() }, field('Search', q)),
      list,
    );
    await load();
  },
};
