/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The web console: boots with the current session (GET /v1/me), builds the
// navigation for the person's roles and routes on location.hash.
import '@xterm/xterm/css/xterm.css';
import './style.css';
import type { AuthUser } from '@jmp/contract/schemas/auth';
import { ApiError, get, post } from './api.js';
import { h } from './dom.js';
import { navigate, route, setGuard, start } from './router.js';
import { clearSession, currentUser, isReader, setSession, whenSessionLost } from './session-store.js';
import { Terminals } from './terminal/terminals.js';
import { loginNotice, loginPage } from './pages/login.js';
import { hostsPage } from './pages/hosts.js';
import { desktopPage } from './pages/desktop.js';
import { desktopReplayPage } from './pages/desktop-replay.js';
import { sessionsPage } from './pages/sessions.js';
import { filesPage } from './pages/files.js';
import { replayPage } from './pages/replay.js';
import { requestsPage } from './pages/requests.js';
import { approvalsPage } from './pages/approvals.js';
import { rulesPage } from './pages/admin-rules.js';
import { usersPage } from './pages/admin-users.js';
import { adminHostsPage } from './pages/admin-hosts.js';
import { accountPage } from './pages/account.js';
import { orgPage } from './pages/admin-org.js';
import { auditPage } from './pages/admin-audit.js';
import { accessPage } from './pages/admin-access.js';
import { livePage } from './pages/live.js';
import { devicesPage } from './pages/admin-devices.js';
import { heading } from './pages/common.js';

const header = document.querySelector<HTMLElement>('header.top')!;
const nav = document.getElementById('nav')!;
const menuToggle = header.querySelector<HTMLButtonElement>('.menu-toggle')!;
const terminals = new Terminals(document.getElementById('terminals')!);

function buildNav(u: AuthUser | null): void {
  header.hidden = !u;
  nav.replaceChildren();
  if (!u) return;
  const links: Array<[string, string]> = [
    ['/hosts', 'My hosts'],
    ['/terminals', 'Terminals'],
    ['/sessions', 'Sessions'],
    ['/files', 'File transfers'],
    ['/requests', 'Requests'],
    ['/approvals', 'Approvals'],
    ['/account', 'My account'],
  ];
  if (isReader(u))
    links.push(
      ['/admin/live', 'Live sessions'],
      ['/admin/org', 'Organisation'],
      ['/admin/access', 'Grants'],
      ['/admin/rules', 'Rules'],
      ['/admin/users', 'Users'],
      ['/admin/hosts', 'Hosts'],
      ['/admin/devices', 'Network devices'],
      ['/admin/audit', 'Audit log'],
    );
  nav.append(h('ul', {}, ...links.map(([path, label]) => h('li', {}, h('a', { href: `#${path}` }, label)))));
  header.querySelector('.who')!.textContent = `${u.displayName || u.username} (${u.username})`;
}

function openTerminal(host: string | null): void {
  terminals.open(host);
  navigate('/terminals');
}

async function logout(): Promise<void> {
  terminals.closeAll();
  try {
    await post('/v1/auth/logout');
  } catch {
    /* the cookie is cleared or dead either way */
  }
  clearSession();
  buildNav(null);
  navigate('/login');
}

route(
  '/login',
  loginPage((u) => buildNav(u)),
);
route('/hosts', hostsPage(openTerminal));
route('/desktop/:host', desktopPage);
route('/desktop-replay/:id', desktopReplayPage);
route('/terminals', { title: 'Terminals', terminals: true, render: () => terminals.shown() });
route('/sessions', sessionsPage);
route('/files', filesPage);
route('/sessions/:id', replayPage);
route('/requests', requestsPage);
route('/approvals', approvalsPage);
route('/admin/rules', rulesPage);
route('/admin/users', usersPage);
route('/admin/hosts', adminHostsPage);
route('/account', accountPage);
route('/admin/org', orgPage);
route('/admin/audit', auditPage);
route('/admin/access', accessPage);
route('/admin/live', livePage);
route('/admin/devices', devicesPage);
route('/404', {
  title: 'Not found',
  render: (main) => {
    main.append(heading('Not found'), h('p', {}, h('a', { href: '#/hosts' }, 'Back to my hosts')));
  },
});

setGuard((path) => {
  if (!currentUser() && path !== '/login') return `/login?next=${encodeURIComponent(path === '/' ? '/hosts' : path)}`;
  if (currentUser() && (path === '/' || path === '/login')) return '/hosts';
  return null;
});

whenSessionLost((why) => {
  terminals.closeAll();
  buildNav(null);
  loginNotice(`Your session has ended (${why}); log in again.`);
  navigate('/login');
});

header.querySelector<HTMLButtonElement>('.logout')!.addEventListener('click', () => void logout());
menuToggle.addEventListener('click', () => {
  const open = menuToggle.getAttribute('aria-expanded') !== 'true';
  menuToggle.setAttribute('aria-expanded', String(open));
  nav.classList.toggle('open', open);
});
nav.addEventListener('click', (e) => {
  if ((e.target as Element).closest('a')) {
    menuToggle.setAttribute('aria-expanded', 'false');
    nav.classList.remove('open');
  }
});

async function boot(): Promise<void> {
  try {
    const { user } = await get<{ user: AuthUser }>('/v1/me');
    setSession(user);
  } catch (err) {
    // 401: not logged in (or the cookie expired): the login page follows.
    if (!(err instanceof ApiError && err.status === 401)) loginNotice((err as Error).message);
    else if (localStorage.getItem('jmp.csrf')) loginNotice('Your session has expired; log in again.');
    clearSession();
  }
  buildNav(currentUser());
  start();
}

void boot();
