// Requests: ask for login or root on a host, service or project for a
// bounded time with a reason; see one's own requests and cancel pending ones.
import type { AccessRequestView } from '@jmp/contract/schemas/requests';
import { get, post } from '../api.js';
import { field, h, message, select, setMessage, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { badge, duration, heading, time } from './common.js';

export const STATUS_KIND: Record<string, string> = {
  pending: 'warn',
  approved: 'ok',
  rejected: 'bad',
  cancelled: 'muted',
  expired: 'muted',
};

const DURATIONS: Array<[string, string]> = [
  ['3600', '1 hour'],
  ['14400', '4 hours'],
  ['28800', '8 hours'],
  ['86400', '1 day'],
  ['259200', '3 days'],
  ['604800', '7 days'],
];

/** The form's values → the request body, or a sentence naming what is wrong. */
export function requestBody(v: {
  scopeType: string;
  target: string;
  right: string;
  durationSeconds: string;
  reason: string;
}): Record<string, unknown> | string {
  const target = v.target.trim();
  if (!target) return v.scopeType === 'host' ? 'Enter the host name.' : `Enter the ${v.scopeType} id.`;
  let scope: Record<string, unknown>;
  if (v.scopeType === 'host') {
    if (/^\d+$/.test(target)) scope = { type: 'host', id: Number(target) };
    else if (/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(target))
      scope = { type: 'host', hostname: target.toLowerCase() };
    else return 'The host name is not a valid DNS name.';
  } else if (v.scopeType === 'service' || v.scopeType === 'project') {
    if (!/^\d+$/.test(target) || Number(target) < 1) return `The ${v.scopeType} id must be a positive number.`;
    scope = { type: v.scopeType, id: Number(target) };
  } else return 'Choose a host, service or project.';
  if (!REQUESTABLE_RIGHTS.some(([r]) => r === v.right)) return 'Choose login, root or a database right.';
  const reason = v.reason.trim();
  if (!reason) return 'Say why you need the access.';
  if (reason.length > 2000) return 'The reason must be at most 2000 characters.';
  return { scope, right: v.right, durationSeconds: Number(v.durationSeconds), reason };
}

/** What a person may ask for: login, root and the database rights (read, write, admin per kind). */
export const REQUESTABLE_RIGHTS: Array<[string, string]> = [
  ['login', 'login'],
  ['root', 'root (sudo)'],
  ['mariadb_read', 'MariaDB read'],
  ['mariadb_write', 'MariaDB write'],
  ['mariadb_admin', 'MariaDB admin'],
  ['redis_read', 'Redis read'],
  ['redis_write', 'Redis write'],
  ['redis_admin', 'Redis admin'],
];

export function scopeLabel(r: AccessRequestView): string {
  return `${r.scope.type} ${r.scope.name}`;
}

export const requestsPage: Page = {
  title: 'Requests',
  async render(main, _params, signal) {
    const scopeType = select('scopeType', [
      ['host', 'a host'],
      ['service', 'a service'],
      ['project', 'a project'],
    ]);
    const target = h('input', { name: 'target', autocomplete: 'off', spellcheck: 'false', required: true });
    const targetField = field('Host name', target);
    const right = select('right', REQUESTABLE_RIGHTS);
    const durationSel = select('durationSeconds', DURATIONS, '3600');
    const reason = h('textarea', { name: 'reason', rows: 3, maxlength: 2000, required: true });
    const msg = message();
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Send request');
    scopeType.addEventListener('change', () => {
      targetField.querySelector('label')!.textContent =
        scopeType.value === 'host' ? 'Host name' : `${scopeType.value[0]!.toUpperCase()}${scopeType.value.slice(1)} id`;
    });
    const form = h(
      'form',
      { class: 'card request-form', novalidate: true, 'aria-labelledby': 'req-new' },
      h('h2', { id: 'req-new' }, 'Ask for access'),
      h('div', { class: 'row' }, field('On', scopeType), targetField),
      h('div', { class: 'row' }, field('Right', right), field('For', durationSel)),
      field('Reason', reason, 'Approvers see this; name the ticket or incident.'),
      msg,
      submit,
    );
    const mine = h('div');

    const load = async () => {
      const { requests } = await get<{ requests: AccessRequestView[] }>('/v1/requests');
      if (signal.aborted) return;
      mine.replaceChildren(
        table(
          'My requests',
          ['Asked', 'For', 'Right', 'Duration', 'Status', 'Approvers', ''],
          requests.map((r) => [
            time(r.createdAt),
            scopeLabel(r),
            r.right,
            duration(r.durationSeconds),
            h(
              'span',
              {},
              badge(r.status, STATUS_KIND[r.status] ?? 'muted'),
              r.decisionNote ? ` ${r.decisionNote}` : '',
            ),
            r.status === 'pending' ? r.approvers : r.decidedBy ? `by ${r.decidedBy.username}` : '—',
            r.status === 'pending'
              ? h(
                  'button',
                  {
                    type: 'button',
                    onclick: async () => {
                      try {
                        await post(`/v1/requests/${r.id}/cancel`);
                        toast('Request cancelled.');
                        await load();
                      } catch (err) {
                        toast((err as Error).message);
                      }
                    },
                  },
                  'Cancel',
                )
              : '',
          ]),
          { empty: 'You have not asked for anything yet.' },
        ),
      );
    };

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = requestBody({
        scopeType: scopeType.value,
        target: target.value,
        right: right.value,
        durationSeconds: durationSel.value,
        reason: reason.value,
      });
      if (typeof body === 'string') {
        setMessage(msg, body);
        return;
      }
      submit.disabled = true;
      try {
        const r = await post<AccessRequestView>('/v1/requests', body);
        setMessage(msg, `Request #${r.id} sent. ${r.approvers}`, 'ok');
        target.value = '';
        reason.value = '';
        await load();
      } catch (err) {
        setMessage(msg, (err as Error).message);
      } finally {
        submit.disabled = false;
      }
    });

    main.append(heading('Requests'), form, h('h2', {}, 'My requests'), mine);
    await load();
  },
};
