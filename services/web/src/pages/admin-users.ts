// Users: search, see roles and factors, disable or enable (administrators).
import { SetPassword, UserCreate, type AdminUser } from '@jmp/contract/schemas/admin';
import { api, get, patch, post } from '../api.js';
import { field, h, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading } from './common.js';
import { actionButton, apiForm } from './forms.js';
import { keysEditor } from './ssh-keys.js';

export const usersPage: Page = {
  title: 'Users',
  async render(main, _params, signal) {
    const admin = !!currentUser()?.isAdmin;
    const q = h('input', { type: 'search', name: 'q', autocomplete: 'off' });
    const list = h('div');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const r = await get<{ items: AdminUser[]; total: number }>('/v1/users', {
        q: q.value.trim() || undefined,
        limit: 200,
      });
      if (signal.aborted) return;
      list.replaceChildren(
        h('p', { class: 'count' }, `${r.total} users`),
        table(
          'Users',
          ['User', 'Name', 'uid', 'Factors', 'Roles', 'Status', 'Password, TOTP, keys', ''],
          r.items.map((u) => [
            h('strong', {}, u.username),
            u.displayName || '—',
            u.uid,
            [u.hasPassword ? 'password' : null, u.hasTotp ? 'TOTP' : null].filter(Boolean).join(' + ') || 'none',
            [u.isAdmin ? badge('admin', 'warn') : null, u.isAuditor ? badge('auditor', 'ok') : null]
              .filter((x): x is HTMLElement => !!x)
              .reduce<Node>((f, b) => {
                f.appendChild(b);
                return f;
              }, document.createDocumentFragment()),
            u.status === 'active' ? badge('active', 'ok') : badge('disabled', 'muted'),
            h('div', {}, admin ? userActions(u, load) : null, keysDetails(u, admin, signal)),
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
              name: 'password',
              label: 'Initial password',
              type: 'password',
              optional: true,
              hint: 'At least 12 characters',
            },
          ],
          schema: UserCreate,
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
