// Hosts with their agent's status: when it was last seen, whether it runs
// degraded, and the tamper events it reported (from the audit log).
import type { z } from 'zod';
import {
  EnrolmentTokenCreate,
  type AdminHost,
  type AuditEntry,
  type EnrolmentTokenCreated,
} from '@jmp/contract/schemas/admin';
import { environmentLabel } from '@jmp/contract/schemas/access';
import { get, patch, post } from '../api.js';
import { field, h, select, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading, time } from './common.js';
import { actionButton, apiForm } from './forms.js';
import { environmentBadge } from './hosts.js';

type CreatedToken = z.infer<typeof EnrolmentTokenCreated>;

/** The line an operator pastes on the new host: install the package, enrol with this jmp-api and token. */
export const installLine = (apiUrl: string, token: string): string =>
  `apt install ./jmp-agent_*.deb && jmp-agent enroll --api ${apiUrl} --token ${token}`;

/** A read-only line with a button that copies it. */
function copyable(text: string, label: string): HTMLElement {
  const input = h('input', { type: 'text', readonly: true, value: text, class: 'mono', 'aria-label': label });
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', () => {
    input.select();
    void navigator.clipboard?.writeText(text).then(
      () => toast('Copied.'),
      () => toast('Select the line and copy it (the browser refused the clipboard).'),
    );
  });
  return h('div', { class: 'copy-line' }, input, copy);
}

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
    const admin = !!currentUser()?.isAdmin;
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
          ['Host', 'Addresses', 'Environment', 'Agent', 'Last seen', 'Tamper events', ''],
          hosts.items.map((x) => {
            const st = agentState(x);
            const events = byHost.get(x.hostname) ?? [];
            const version = typeof x.agentStatus.version === 'string' ? x.agentStatus.version : null;
            return [
              h('strong', {}, x.hostname),
              x.addresses.join(', ') || '—',
              admin ? environmentSelect(x, load) : environmentBadge(x.state),
              h(
                'span',
                { 'data-agent': st.text },
                badge(st.text, st.kind),
                version ? h('small', {}, ` ${version}`) : null,
              ),
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
              admin && x.enrolled
                ? actionButton(
                    'Reset enrolment',
                    `Reset enrolment of ${x.hostname}`,
                    async () => {
                      await post(`/v1/hosts/${x.id}/reset-enrolment`, {});
                      toast(`${x.hostname} must enrol again (its agent key is forgotten).`);
                      await load();
                    },
                    toast,
                    'danger',
                  )
                : '',
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
    if (admin) main.append(tokenForm());
    await load();
  },
};

/** Production or not, changed in place (the host's state in the model). */
function environmentSelect(x: AdminHost, reload: () => Promise<void>): HTMLElement {
  const s = select(
    'state',
    [
      ['online', environmentLabel('online')],
      ['offline', environmentLabel('offline')],
    ],
    x.state,
  );
  s.setAttribute('aria-label', `Environment of ${x.hostname}`);
  s.addEventListener('change', () => {
    void patch(`/v1/hosts/${x.id}`, { state: s.value })
      .then(() => toast(`${x.hostname} is now ${environmentLabel(s.value as AdminHost['state'])}.`))
      .catch((err: Error) => toast(err.message))
      .finally(() => void reload());
  });
  return s;
}

function tokenForm(): HTMLElement {
  return apiForm({
    title: 'Enrol new hosts',
    id: 'token-new',
    fields: [
      { name: 'description', label: 'What for', optional: true },
      {
        name: 'hostState',
        label: 'Environment of the hosts',
        type: 'select',
        options: [
          ['online', environmentLabel('online')],
          ['offline', environmentLabel('offline')],
        ],
      },
      { name: 'maxUses', label: 'Hosts it may enrol', type: 'number', value: '1' },
      { name: 'ttlSeconds', label: 'Valid for (seconds)', type: 'number', value: '86400' },
    ],
    schema: EnrolmentTokenCreate,
    submit: 'Create enrolment token',
    send: async (b) => {
      const t = await post<CreatedToken>('/v1/enrolment-tokens', b);
      return h(
        'div',
        {},
        h(
          'p',
          {},
          `Token #${t.id} for ${t.maxUses} host(s), until ${time(t.expiresAt)}. Shown this once. On each new host:`,
        ),
        copyable(installLine(location.origin, t.token), 'Install line'),
      );
    },
  });
}
