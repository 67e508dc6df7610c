// Grants (rights outside the roles, for a person or a department, with an end)
// and request limits (how long each right may be asked for, per project or
// service). Administrators change them; auditors read the grants.
import { REQUESTABLE_RIGHTS } from './requests.js';
import type { z } from 'zod';
import {
  GrantCreate,
  GrantUpdate,
  type AdminGrant,
  type AdminHost,
  type AdminUser,
  type Department,
  type Project,
  type Service,
} from '@jmp/contract/schemas/admin';
import { RequestPolicy, type RequestPolicyView } from '@jmp/contract/schemas/requests';
import { api, get, patch, post } from '../api.js';
import { h, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { duration, heading, time } from './common.js';
import { actionButton, apiForm, inlineForm, localDateTime } from './forms.js';
import { serviceNames } from './org-names.js';

type Grant = z.infer<typeof AdminGrant>;
const all = { limit: 500 };

/** "service:3" → { scopeType: 'service', scopeId: 3 } (nothing when empty). */
export function splitRef(value: unknown, typeKey: string, idKey: string): Record<string, unknown> {
  const [type, id] = String(value ?? '').split(':');
  return id ? { [typeKey]: type, [idKey]: Number(id) } : {};
}

export const accessPage: Page = {
  title: 'Grants and request limits',
  async render(main, _params, signal) {
    const admin = !!currentUser()?.isAdmin;
    const draw = async () => {
      const [grants, users, depts, projects, services, hosts, policies] = await Promise.all([
        get<{ items: Grant[] }>('/v1/grants', { ...all, active: true }),
        get<{ items: AdminUser[] }>('/v1/users', all),
        get<{ items: z.infer<typeof Department>[] }>('/v1/departments', all),
        get<{ items: z.infer<typeof Project>[] }>('/v1/projects', all),
        get<{ items: z.infer<typeof Service>[] }>('/v1/services', all),
        get<{ items: AdminHost[] }>('/v1/hosts', all),
        admin ? get<{ policies: RequestPolicyView[] }>('/v1/request-policies') : Promise.resolve({ policies: [] }),
      ]);
      if (signal.aborted) return;
      const proj = new Map(projects.items.map((p) => [p.id, p.name]));
      const names: Record<string, Map<number, string>> = {
        user: new Map(users.items.map((u) => [u.id, u.username])),
        department: new Map(depts.items.map((d) => [d.id, d.name])),
        project: proj,
        service: serviceNames(projects.items, services.items),
        host: new Map(hosts.items.map((x) => [x.id, x.hostname])),
      };
      const name = (t: string, id: number) => `${t} ${names[t]?.get(id) ?? `#${id}`}`;
      const options = (types: string[]): Array<[string, string]> => [
        ['', '— choose —'],
        ...types.flatMap((t) =>
          [...(names[t] ?? new Map<number, string>())].map(([id, n]): [string, string] => [`${t}:${id}`, `${t} ${n}`]),
        ),
      ];
      const grantSection = h(
        'section',
        { 'aria-labelledby': 'grants-h' },
        h('h2', { id: 'grants-h' }, 'Grants in force'),
        table(
          'Grants in force',
          ['#', 'To', 'Right', 'On', 'Until', 'From', ''],
          grants.items.map((g) => [
            g.id,
            name(g.subjectType, g.subjectId),
            g.right,
            name(g.scopeType, g.scopeId),
            admin ? expiryForm(g, draw) : g.validUntil ? time(g.validUntil) : 'no end',
            g.requestId ? `request #${g.requestId}` : g.origin,
            admin
              ? actionButton(
                  'Revoke',
                  `Revoke grant #${g.id}`,
                  async () => {
                    await api('DELETE', `/v1/grants/${g.id}`);
                    toast(`Grant #${g.id} revoked.`);
                    await draw();
                  },
                  toast,
                  'danger',
                )
              : '',
          ]),
          { empty: 'No grant is in force.' },
        ),
        admin &&
          apiForm({
            title: 'New grant',
            id: 'grant-new',
            fields: [
              {
                name: 'subject',
                label: 'To',
                type: 'select',
                optional: true,
                options: options(['user', 'department']),
              },
              {
                name: 'right',
                label: 'Right',
                type: 'select',
                options: REQUESTABLE_RIGHTS,
              },
              {
                name: 'scope',
                label: 'On',
                type: 'select',
                optional: true,
                options: options(['host', 'service', 'project']),
              },
              { name: 'validUntil', label: 'Until', type: 'datetime-local', optional: true, hint: 'Empty: no end' },
            ],
            schema: GrantCreate,
            prepare: ({ subject, scope, ...rest }) => ({
              ...rest,
              ...splitRef(subject, 'subjectType', 'subjectId'),
              ...splitRef(scope, 'scopeType', 'scopeId'),
            }),
            submit: 'Grant',
            send: async (b) => {
              const g = await post<Grant>('/v1/grants', b);
              await draw();
              return `Grant #${g.id} made.`;
            },
          }),
      );
      const policySection =
        admin &&
        h(
          'section',
          { 'aria-labelledby': 'policies-h' },
          h('h2', { id: 'policies-h' }, 'Request limits'),
          h('p', { class: 'hint' }, 'How long a right may be asked for on a project or service, and by whom.'),
          table(
            'Request limits',
            ['On', 'Right', 'At most', 'Who may ask', ''],
            policies.policies.map((p) => [
              name(p.scopeType, p.scopeId),
              p.right,
              duration(p.maxSeconds),
              p.allowedDepartmentIds
                ? p.allowedDepartmentIds.map((d) => names.department!.get(d) ?? `#${d}`).join(', ')
                : 'anyone',
              actionButton(
                'Remove',
                `Remove the limit on ${name(p.scopeType, p.scopeId)} for ${p.right}`,
                async () => {
                  await api(
                    'DELETE',
                    `/v1/request-policies?scopeType=${p.scopeType}&scopeId=${p.scopeId}&right=${p.right}`,
                  );
                  toast('Limit removed.');
                  await draw();
                },
                toast,
                'danger',
              ),
            ]),
            { empty: 'No limits: the built-in defaults apply.' },
          ),
          apiForm({
            title: 'Set a request limit',
            id: 'policy-new',
            fields: [
              {
                name: 'scope',
                label: 'Limit on',
                type: 'select',
                optional: true,
                options: options(['service', 'project']),
              },
              {
                name: 'right',
                label: 'For right',
                type: 'select',
                options: REQUESTABLE_RIGHTS,
              },
              { name: 'maxHours', label: 'At most (hours)', type: 'number', value: '8' },
              {
                name: 'allowedDepartment',
                label: 'Who may ask',
                type: 'select',
                optional: true,
                options: [['', 'anyone'], ...options(['department']).slice(1)],
              },
              {
                name: 'allowDepartmentSubjects',
                label: 'A whole department may be granted',
                type: 'checkbox',
                value: 'true',
              },
            ],
            schema: RequestPolicy,
            prepare: ({ scope, maxHours, allowedDepartment, ...rest }) => ({
              ...rest,
              ...splitRef(scope, 'scopeType', 'scopeId'),
              allowedDepartmentIds: allowedDepartment ? [Number(String(allowedDepartment).split(':')[1])] : null,
              ...(typeof maxHours === 'number' ? { maxSeconds: Math.round(maxHours * 3600) } : {}),
            }),
            submit: 'Set limit',
            send: async (b) => {
              await api('PUT', '/v1/request-policies', b);
              await draw();
              return 'Limit set.';
            },
          }),
        );
      main.replaceChildren(
        heading('Grants and request limits'),
        grantSection,
        ...(policySection ? [policySection] : []),
      );
    };
    await draw();
  },
};

/** The end of a grant, changed in place (empty: no end); the API refuses an end before its start. */
function expiryForm(g: Grant, reload: () => Promise<void>): HTMLElement {
  return inlineForm({
    spec: {
      name: 'validUntil',
      label: 'Until',
      type: 'datetime-local',
      optional: true,
      value: localDateTime(g.validUntil),
    },
    label: `Expiry of grant #${g.id}`,
    schema: GrantUpdate,
    body: (v) => ({ validUntil: v ?? null }),
    submit: 'Save',
    submitLabel: `Save expiry of grant #${g.id}`,
    send: async (b) => {
      const after = await patch<Grant>(`/v1/grants/${g.id}`, b);
      await reload();
      return `Grant #${g.id} now ${after.validUntil ? `ends ${time(after.validUntil)}` : 'has no end'}.`;
    },
    report: toast,
  });
}
