// Users: search, see roles and factors, disable or enable, place in a
// department, make administrator or auditor (administrators).
import type { z } from 'zod';
import { SetPassword, UserCreate, UserUpdate, type AdminUser, type Department } from '@jmp/contract/schemas/admin';
import { api, get, patch, post } from '../api.js';
import { field, h, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading } from './common.js';
import { actionButton, apiForm, savingSelect } from './forms.js';
import { keysEditor } from './ssh-keys.js';

export const usersPage: Page = {
  title: 'Users',
  async render(main, _params, signal) {
    const admin = !!currentUser()?.isAdmin;
    const q = h('input', { type: 'search', name: 'q', autocomplete: 'off' });
    const list = h('div');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const depts = await get<{ items: z.infer<typeof Department>[] }>('/v1/departments', { limit: 500 });
    const deptName = new Map(depts.items.map((d) => [d.id, d.name]));
    const deptOptions: Array<[string, string]> = [
      ['', '— none —'],
      ...depts.items.map((d): [string, string] => [String(d.id), d.name]),
    ];
    const load = async () => {
      const r = await get<{ items: AdminUser[]; total: number }>('/v1/users', {
        q: q.value.trim() || undefined,
        limit: 200,
      });
      if (signal.aborted) return;
      const edit = (u: AdminUser, key: string, label: string, options: Array<[string, string]>, value: string) =>
        savingSelect({
          name: key,
          label,
          options,
          value,
          save: async (v) => {
            const body = UserUpdate.safeParse(key === 'access' ? accessOf(v) : { [key]: v ? Number(v) : null });
            if (!body.success) throw new Error(`${label}: ${body.error.issues[0]!.message}`);
            const after = await patch<AdminUser>(`/v1/users/${u.id}`, body.data);
            return key === 'access'
              ? `${u.username} is now ${accessLabel(accessChoice(after))}.`
              : `${u.username} is now in ${after.departmentId ? deptName.get(after.departmentId) : 'no department'}.`;
          },
          report: toast,
          reload: load,
        });
      list.replaceChildren(
        h('p', { class: 'count' }, `${r.total} users`),
        table(
          'Users',
          ['User', 'Name', 'uid', 'Department', 'Factors', 'Roles', 'Status', 'Password, TOTP, keys', '', ''],
          r.items.map((u) => [
            h('strong', {}, u.username),
            u.displayName || '—',
            u.uid,
            admin
              ? edit(u, 'departmentId', `Department of ${u.username}`, deptOptions, String(u.departmentId ?? ''))
              : u.departmentId
                ? (deptName.get(u.departmentId) ?? `#${u.departmentId}`)
                : '—',
            [u.hasPassword ? 'password' : null, u.hasTotp ? 'TOTP' : null].filter(Boolean).join(' + ') || 'none',
            admin && u.id !== currentUser()?.id
              ? edit(u, 'access', `Console rights of ${u.username}`, ACCESS_CHOICES, accessChoice(u))
              : [u.isAdmin ? badge('admin', 'warn') : null, u.isAuditor ? badge('auditor', 'ok') : null]
                  .filter((x): x is HTMLElement => !!x)
                  .reduce<Node>((f, b) => {
                    f.appendChild(b);
                    return f;
                  }, document.createDocumentFragment()),
            u.status === 'active' ? badge('active', 'ok') : badge('disabled', 'muted'),
            h(
              'div',
              {},
              admin ? userActions(u, load) : null,
              admin ? userEdit(u, r.items, load) : null,
              keysDetails(u, admin, signal),
            ),
            admin && u.id !== currentUser()?.id
              ? h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `${u.status === 'active' ? 'Disable' : 'Enable'} ${u.username}`,
                    onclick: async () => {
                      try {
                        await patch(`/v1/users/${u.id}`, { status: u.status === 'active' ? 'disabled' : 'active' });
                        toast(`${u.username} ${u.status === 'active' ? 'disabled' : 'enabled'}.`);
                        await load();
                      } catch (err) {
                        toast((err as Error).message);
                      }
                    },
                  },
                  u.status === 'active' ? 'Disable' : 'Enable',
                )
              : '',
            admin && u.id !== currentUser()?.id && u.status === 'disabled'
              ? actionButton(
                  'Delete',
                  `Delete ${u.username} for good`,
                  async () => {
                    // Disabling keeps the history readable; deleting is for mistaken accounts.
                    if (!confirm(`Delete ${u.username} for good? Their roles and keys go; their uid is never reused.`))
                      return;
                    await api('DELETE', `/v1/users/${u.id}?hard=1`);
                    toast(`${u.username} deleted.`);
                    await load();
                  },
                  toast,
                  'danger',
                )
              : '',
          ]),
          { empty: 'No user matches.' },
        ),
      );
    };
    q.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load().catch((err: Error) => toast(err.message)), 250);
    });
    main.append(
      heading('Users'),
      h('form', { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() }, field('Search', q)),
      list,
    );
    if (admin)
      main.append(
        apiForm({
          title: 'New user',
          id: 'user-new',
          fields: [
            {
              name: 'username',
              label: 'Username',
              hint: 'Lower case; never changes (it is the login name on every host)',
            },
            { name: 'displayName', label: 'Full name', optional: true },
            { name: 'email', label: 'Email', optional: true },
            {
              name: 'departmentId',
              label: 'Department',
              type: 'select',
              numeric: true,
              optional: true,
              options: deptOptions,
            },
            { name: 'access', label: 'Console rights', type: 'select', options: ACCESS_CHOICES },
            {
              name: 'password',
              label: 'Initial password',
              type: 'password',
              optional: true,
              hint: 'At least 12 characters',
            },
          ],
          schema: UserCreate,
          prepare: ({ access, ...rest }) => ({ ...rest, ...accessOf(String(access)) }),
          submit: 'Create user',
          send: async (b) => {
            const u = await post<AdminUser>('/v1/users', b);
            await load();
            return `User ${u.username} created (uid ${u.uid}).`;
          },
        }),
      );
    await load();
  },
};

/** The console rights of a person: isAdmin and isAuditor as one choice. */
const ACCESS_CHOICES: Array<[string, string]> = [
  ['none', 'person'],
  ['auditor', 'auditor'],
  ['admin', 'administrator'],
  ['admin+auditor', 'administrator and auditor'],
];
export const accessChoice = (u: { isAdmin: boolean; isAuditor: boolean }): string =>
  u.isAdmin ? (u.isAuditor ? 'admin+auditor' : 'admin') : u.isAuditor ? 'auditor' : 'none';
export const accessOf = (choice: string): { isAdmin: boolean; isAuditor: boolean } => ({
  isAdmin: choice.startsWith('admin'),
  isAuditor: choice.endsWith('auditor'),
});
const accessLabel = (choice: string) => ACCESS_CHOICES.find(([v]) => v === choice)?.[1] ?? choice;

/** Reset password (a new one typed by the administrator) and reset TOTP (the person enrols again). */
function userActions(u: AdminUser, reload: () => Promise<void>): HTMLElement {
  const pw = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    'aria-label': `New password for ${u.username}`,
    placeholder: 'new password',
  });
  const setPw = actionButton(
    'Set password',
    `Set password for ${u.username}`,
    async () => {
      const body = SetPassword.safeParse({ password: pw.value });
      if (!body.success) throw new Error(`Password: ${body.error.issues[0]!.message}`);
      await post(`/v1/users/${u.id}/password`, body.data);
      pw.value = '';
      toast(`Password of ${u.username} set; their web sessions were ended.`);
    },
    toast,
  );
  const totp = u.hasTotp
    ? actionButton(
        'Reset TOTP',
        `Reset TOTP of ${u.username}`,
        async () => {
          await api('DELETE', `/v1/users/${u.id}/totp`);
          toast(`TOTP of ${u.username} removed; they can enrol again on their account page.`);
          await reload();
        },
        toast,
      )
    : null;
  return h('div', { class: 'inline-actions' }, pw, setPw, totp);
}

/** The person's SSH keys, loaded when opened. */
function keysDetails(u: AdminUser, admin: boolean, signal: AbortSignal): HTMLElement {
  const d = h('details', { class: 'user-keys' }, h('summary', {}, `Keys of ${u.username}`));
  d.addEventListener(
    'toggle',
    () => {
      if (d.open) d.append(keysEditor(`/v1/users/${u.id}/keys`, `SSH public keys of ${u.username}`, signal, admin));
    },
    { once: true },
  );
  return d;
}

/** Name, email, shell and leader of a person (the username and uid never change). */
function userEdit(u: AdminUser, people: AdminUser[], reload: () => Promise<void>): HTMLElement {
  // Built when opened: a leader select per row would put every name in every row.
  const d = h('details', { class: 'row-edit' }, h('summary', {}, `Change ${u.username}`));
  d.addEventListener('toggle', () => d.open && d.append(userForm(u, people, reload)), { once: true });
  return d;
}

function userForm(u: AdminUser, people: AdminUser[], reload: () => Promise<void>): HTMLElement {
  return apiForm({
    title: `Change ${u.username}`,
    id: `user-edit-${u.id}`,
    fields: [
      { name: 'displayName', label: `Display name of ${u.username}`, value: u.displayName },
      { name: 'email', label: `Email of ${u.username}`, value: u.email ?? '' },
      { name: 'shell', label: `Shell of ${u.username}`, value: u.shell },
      {
        name: 'leaderId',
        label: `Leader of ${u.username}`,
        type: 'select',
        value: u.leaderId ? String(u.leaderId) : '',
        options: [
          ['', '— none —'],
          ...people.filter((p) => p.id !== u.id).map((p): [string, string] => [String(p.id), p.username]),
        ],
      },
    ],
    schema: UserUpdate,
    // Empty email and leader clear them (null), as the API takes it.
    prepare: ({ email, leaderId, ...rest }) => ({
      ...rest,
      email: email ? email : null,
      leaderId: leaderId ? Number(leaderId) : null,
    }),
    submit: 'Save person',
    send: async (b) => {
      const after = await patch<AdminUser>(`/v1/users/${u.id}`, b);
      await reload();
      return `${after.username} saved.`;
    },
  });
}
