// Enrolment tokens on the Hosts page: the tokens made so far (never the
// tokens themselves: only their sha256 is kept), revoking one, and a new one
// for a service with the line to paste on the new host, shown once.
import type { z } from 'zod';
import { EnrolmentTokenCreate, type EnrolmentToken, type EnrolmentTokenCreated } from '@jmp/contract/schemas/admin';
import { environmentLabel } from '@jmp/contract/schemas/access';
import { api, get, post } from '../api.js';
import { h, table, toast } from '../dom.js';
import { badge, time } from './common.js';
import { actionButton, apiForm } from './forms.js';
import { ALL, serviceOptions } from './org-names.js';

type Token = z.infer<typeof EnrolmentToken>;
type CreatedToken = z.infer<typeof EnrolmentTokenCreated>;

/** The line an operator pastes on the new host: install the package, enrol with this jmp-api and token. */
export const installLine = (apiUrl: string, token: string): string =>
  `apt install ./jmp-agent_*.deb && jmp-agent enroll --api ${apiUrl} --token ${token}`;

/** active, used up, expired or revoked: why a token no longer enrols. */
export function tokenState(t: Pick<Token, 'active' | 'revokedAt' | 'uses' | 'maxUses'>): {
  text: string;
  kind: string;
} {
  if (t.active) return { text: 'active', kind: 'ok' };
  if (t.revokedAt) return { text: 'revoked', kind: 'muted' };
  if (t.uses >= t.maxUses) return { text: 'used up', kind: 'muted' };
  return { text: 'expired', kind: 'muted' };
}

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

/** The tokens section; `admin` adds revoking and the new-token form. */
export function enrolmentSection(admin: boolean, services: Map<number, string>, signal: AbortSignal): HTMLElement {
  const list = h('div');
  const load = async () => {
    const r = await get<{ items: Token[]; total: number }>('/v1/enrolment-tokens', ALL);
    if (signal.aborted) return;
    list.replaceChildren(
      table(
        'Enrolment tokens',
        ['#', 'What for', 'Service', 'Environment', 'Used', 'Until', 'State', ''],
        r.items.map((t) => {
          const st = tokenState(t);
          return [
            t.id,
            t.description || '—',
            t.serviceId ? (services.get(t.serviceId) ?? `#${t.serviceId}`) : '—',
            environmentLabel(t.hostState),
            `${t.uses} of ${t.maxUses}`,
            time(t.expiresAt),
            h('span', { 'data-token-state': st.text }, badge(st.text, st.kind)),
            admin && t.active
              ? actionButton(
                  'Revoke',
                  `Revoke enrolment token #${t.id}`,
                  async () => {
                    await api('DELETE', `/v1/enrolment-tokens/${t.id}`);
                    toast(`Enrolment token #${t.id} revoked.`);
                    await load();
                  },
                  toast,
                  'danger',
                )
              : '',
          ];
        }),
        { empty: 'No enrolment token yet.' },
      ),
    );
  };
  const form =
    admin &&
    apiForm({
      title: 'Enrol new hosts',
      id: 'token-new',
      fields: [
        { name: 'description', label: 'What for', optional: true },
        {
          name: 'serviceId',
          label: 'Into service',
          type: 'select',
          numeric: true,
          optional: true,
          options: serviceOptions(services, ['', '— no service —']),
        },
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
        await load();
        const into = t.serviceId ? ` into ${services.get(t.serviceId) ?? `#${t.serviceId}`}` : '';
        return h(
          'div',
          {},
          h(
            'p',
            {},
            `Token #${t.id} for ${t.maxUses} host(s)${into}, until ${time(t.expiresAt)}. Shown this once. On each new host:`,
          ),
          copyable(installLine(location.origin, t.token), 'Install line'),
        );
      },
    });
  void load().catch((err: Error) => toast(err.message));
  return h('section', { 'aria-labelledby': 'tokens-h' }, h('h2', { id: 'tokens-h' }, 'Enrolment tokens'), list, form);
}
