// Users: search, see roles and factors, disable or enable (administrators).
import type { AdminUser } from '@jmp/contract/schemas/admin';
import { get, patch } from '../api.js';
import { field, h, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading } from './common.js';

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
          ['User', 'Name', 'uid', 'Factors', 'Roles', 'Status', ''],
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
    await load();
  },
};
