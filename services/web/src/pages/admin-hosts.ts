// Hosts with their agent's status: when it was last seen, whether it runs
// degraded, and the tamper events it reported (from the audit log).
// Administrators register hosts, move them between services, set their
// environment, reset their enrolment, delete them and make enrolment tokens.
import type { z } from 'zod';
import {
  HostCreate,
  HostUpdate,
  type AdminHost,
  type AuditEntry,
  type EnrolmentToken as TokenSchema,
} from '@jmp/contract/schemas/admin';
import { environmentLabel } from '@jmp/contract/schemas/access';
import { api, get, patch, post } from '../api.js';
import { field, h, select, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading, time } from './common.js';
import { actionButton, apiForm, savingSelect } from './forms.js';
import { environmentBadge } from './hosts.js';
import { enrolmentSection } from './admin-enrolment.js';
import { loadServices, serviceOptions, splitList } from './org-names.js';

type EnrolmentToken = z.infer<typeof TokenSchema>;

const KINDS: Array<[string, string]> = [
  ['linux', 'Linux (jmp-agent)'],
  ['windows', 'Windows (RDP)'],
  ['netdev', 'network device'],
];
const ENVIRONMENTS: Array<[string, string]> = [
  ['online', environmentLabel('online')],
  ['offline', environmentLabel('offline')],
];

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
    const org = await loadServices();
    if (signal.aborted) return;
    const services = org.names;
    const q = h('input', { type: 'search', name: 'q', autocomplete: 'off' });
    const inService = select('serviceId', serviceOptions(services, ['', '— every service —']));
    const list = h('div');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const [hosts, tamper] = await Promise.all([
        get<{ items: AdminHost[]; total: number }>('/v1/hosts', {
          q: q.value.trim() || undefined,
          serviceId: inService.value || undefined,
          limit: 500,
        }),
        get<{ items: AuditEntry[] }>('/v1/audit', { action: 'agent.tamper', limit: 500 }),
      ]);
      if (signal.aborted) return;
      const byHost = new Map<string, AuditEntry[]>();
      for (const e of tamper.items) byHost.set(e.target, [...(byHost.get(e.target) ?? []), e]);
      list.replaceChildren(
        h('p', { class: 'count' }, `${hosts.total} hosts`),
        table(
          'Hosts',
          ['Host', 'Addresses', 'Service', 'Environment', 'Agent', 'Last seen', 'Tamper events', ''],
          hosts.items.map((x) => {
            const st = agentState(x);
            const events = byHost.get(x.hostname) ?? [];
            const version = typeof x.agentStatus.version === 'string' ? x.agentStatus.version : null;
            return [
              h('strong', {}, x.hostname),
              x.addresses.join(', ') || '—',
              admin
                ? serviceSelect(x, services, load)
                : x.serviceId
                  ? (services.get(x.serviceId) ?? `#${x.serviceId}`)
                  : '—',
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
              admin ? hostActions(x, load) : '',
            ];
          }),
          { empty: 'No host matches.' },
        ),
      );
    };
    const reload = () => void load().catch((err: Error) => toast(err.message));
    q.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(reload, 250);
    });
    inService.addEventListener('change', reload);
    main.append(
      heading('Hosts'),
      h(
        'form',
        { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
        field('Search', q),
        field('In service', inService),
      ),
      list,
    );
    if (admin) {
      const tokens = await get<{ items: EnrolmentToken[] }>('/v1/enrolment-tokens', { active: true, limit: 500 });
      if (signal.aborted) return;
      main.append(hostForm(services, tokens.items, load));
    }
    main.append(enrolmentSection(admin, services, signal));
    await load();
  },
};

/** Name, addresses, kind and SSH host keys of a registered host (service and environment are in the row). */
function hostEdit(x: AdminHost, reload: () => Promise<void>): HTMLElement {
  return h(
    'details',
    { class: 'row-edit' },
    h('summary', {}, `Change ${x.hostname}`),
    apiForm({
      title: `Change ${x.hostname}`,
      id: `host-edit-${x.id}`,
      fields: [
        { name: 'hostname', label: `Name of ${x.hostname}`, value: x.hostname },
        { name: 'addresses', label: `Addresses of ${x.hostname}`, value: x.addresses.join(', ') },
        { name: 'kind', label: `Kind of ${x.hostname}`, type: 'select', options: KINDS, value: x.kind },
        {
          name: 'sshHostKeys',
          label: `SSH host keys of ${x.hostname}`,
          type: 'textarea',
          value: x.sshHostKeys.join('\n'),
          hint: 'One key per line',
        },
      ],
      schema: HostUpdate,
      prepare: ({ addresses, sshHostKeys, ...rest }) => ({
        ...rest,
        addresses: splitList(addresses),
        sshHostKeys: String(sshHostKeys ?? '')
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean),
      }),
      submit: 'Save host',
      send: async (b) => {
        const after = await patch<AdminHost>(`/v1/hosts/${x.id}`, b);
        await reload();
        return `${after.hostname} saved.`;
      },
    }),
  );
}

/** Reset enrolment (enrolled hosts), delete, and the host's other settings. */
function hostActions(x: AdminHost, reload: () => Promise<void>): HTMLElement {
  return h(
    'div',
    { class: 'inline-actions' },
    hostEdit(x, reload),
    x.enrolled
      ? actionButton(
          'Reset enrolment',
          `Reset enrolment of ${x.hostname}`,
          async () => {
            await post(`/v1/hosts/${x.id}/reset-enrolment`, {});
            toast(`${x.hostname} must enrol again (its agent key is forgotten).`);
            await reload();
          },
          toast,
          'danger',
        )
      : null,
    actionButton(
      'Delete',
      `Delete ${x.hostname}`,
      async () => {
        if (!confirm(`Delete ${x.hostname}? Its grants are revoked; its recordings stay.`)) return;
        await api('DELETE', `/v1/hosts/${x.id}`);
        toast(`${x.hostname} deleted.`);
        await reload();
      },
      toast,
      'danger',
    ),
  );
}

/** The host's service, changed in place (PATCH serviceId; an unbound enrolment token is the API's business). */
function serviceSelect(x: AdminHost, services: Map<number, string>, reload: () => Promise<void>): HTMLElement {
  return savingSelect({
    name: 'serviceId',
    label: `Service of ${x.hostname}`,
    options: serviceOptions(services, ['', '— none —']),
    value: x.serviceId ? String(x.serviceId) : '',
    save: async (v) => {
      const body = HostUpdate.parse({ serviceId: v ? Number(v) : null });
      await patch(`/v1/hosts/${x.id}`, body);
      return `${x.hostname} is now in ${v ? (services.get(Number(v)) ?? `#${v}`) : 'no service'}.`;
    },
    report: toast,
    reload,
  });
}

/** Production or not, changed in place (the host's state in the model). */
function environmentSelect(x: AdminHost, reload: () => Promise<void>): HTMLElement {
  return savingSelect({
    name: 'state',
    label: `Environment of ${x.hostname}`,
    options: ENVIRONMENTS,
    value: x.state,
    save: async (v) => {
      await patch(`/v1/hosts/${x.id}`, { state: v });
      return `${x.hostname} is now ${environmentLabel(v as AdminHost['state'])}.`;
    },
    report: toast,
    reload,
  });
}

/** Registers a host by hand (an enrolling agent registers its own). */
function hostForm(services: Map<number, string>, tokens: EnrolmentToken[], reload: () => Promise<void>): HTMLElement {
  return apiForm({
    title: 'Register a host',
    id: 'host-new',
    fields: [
      { name: 'hostname', label: 'Host name' },
      { name: 'addresses', label: 'Addresses', optional: true, hint: 'IP addresses, separated by commas' },
      {
        name: 'serviceId',
        label: 'Service',
        type: 'select',
        numeric: true,
        optional: true,
        options: serviceOptions(services, ['', '— none —']),
      },
      { name: 'state', label: 'Environment', type: 'select', options: ENVIRONMENTS },
      {
        name: 'kind',
        label: 'Kind',
        type: 'select',
        options: KINDS,
      },
      {
        name: 'enrolmentTokenId',
        label: 'Only this token may enrol it',
        type: 'select',
        numeric: true,
        optional: true,
        hint: 'A token of the same service; no other can claim the host',
        options: [
          ['', '— any token of its service —'],
          ...tokens.map((t): [string, string] => [
            String(t.id),
            `#${t.id} ${t.description || ''} (${t.serviceId ? (services.get(t.serviceId) ?? `#${t.serviceId}`) : 'no service'})`,
          ]),
        ],
      },
    ],
    schema: HostCreate,
    prepare: ({ addresses, ...rest }) => ({ ...rest, ...(addresses ? { addresses: splitList(addresses) } : {}) }),
    submit: 'Register host',
    send: async (b) => {
      const x = await post<AdminHost>('/v1/hosts', b);
      await reload();
      return `${x.hostname} registered${x.serviceId ? ` in ${services.get(x.serviceId) ?? `#${x.serviceId}`}` : ''}.`;
    },
  });
}
