// My account: TOTP enrolment (a QR code drawn in the page, active only after
// a code from the app), SSH public keys, and my rights with where each comes
// from. Sessions are on the Sessions page.
import qrcode from 'qrcode-generator';
import type { MyRight, MyTotp, MyTotpStart } from '@jmp/contract/schemas/auth';
import { MyTotpConfirm } from '@jmp/contract/schemas/auth';
import { get, post } from '../api.js';
import { h, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { badge, heading, time } from './common.js';
import { apiForm } from './forms.js';
import { keysEditor } from './ssh-keys.js';

const SVG = 'http://www.w3.org/2000/svg';

/** The otpauth:// URI as a QR code: an SVG of dark modules, with the URI's meaning as its accessible name. */
export function qrSvg(text: string, label: string): SVGSVGElement {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${n + 2 * quiet} ${n + 2 * quiet}`);
  svg.setAttribute('width', String((n + 2 * quiet) * 5));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('class', 'qr');
  const bg = document.createElementNS(SVG, 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', '#fff');
  svg.append(bg);
  let d = '';
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + quiet},${r + quiet}h1v1h-1z`;
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(path);
  return svg;
}

function totpSection(signal: AbortSignal): HTMLElement {
  const box = h('section', { class: 'card', 'aria-labelledby': 'totp-h' });
  const draw = async () => {
    const st = await get<MyTotp>('/v1/me/totp');
    if (signal.aborted) return;
    box.replaceChildren(h('h2', { id: 'totp-h' }, 'Two-factor authentication (TOTP)'));
    if (st.enabled) {
      box.append(
        h('p', {}, badge('active', 'ok'), ' Logins ask for a code from your authenticator app.'),
        h('p', { class: 'hint' }, 'Lost your phone? An administrator can reset it; then enrol again here.'),
      );
      return;
    }
    const start = h('button', { type: 'button', class: 'primary' }, 'Set up an authenticator app');
    start.addEventListener('click', () => {
      void (async () => {
        try {
          const s = await post<MyTotpStart>('/v1/me/totp');
          showEnrolment(s);
        } catch (err) {
          toast((err as Error).message);
        }
      })();
    });
    box.append(h('p', {}, badge('not set up', 'warn'), ' Logins ask only for your password.'), start);
  };
  const showEnrolment = (s: MyTotpStart) => {
    const form = apiForm({
      title: 'Confirm with a code',
      id: 'totp-confirm-h',
      fields: [{ name: 'code', label: 'Code from the app', hint: '6 digits; it changes every 30 seconds' }],
      schema: MyTotpConfirm,
      submit: 'Confirm and turn on',
      send: async (body) => {
        await post('/v1/me/totp/confirm', body);
        toast('TOTP is on: logins now ask for a code.');
        await draw();
        return 'TOTP is on.';
      },
    });
    box.replaceChildren(
      h('h2', { id: 'totp-h' }, 'Two-factor authentication (TOTP)'),
      h(
        'p',
        {},
        'Scan this code with your authenticator app, then enter the code it shows. Until then nothing changes.',
      ),
      h('div', { class: 'qr-wrap' }, qrSvg(s.uri, 'QR code of your TOTP seed for jmp')),
      h(
        'p',
        { class: 'hint' },
        'Cannot scan? Enter this key by hand: ',
        h('code', { 'data-totp-secret': '' }, s.secret),
        ` (valid until ${time(s.expiresAt)}).`,
      ),
      form,
    );
    form.querySelector('input')?.focus();
  };
  void draw().catch((err: Error) =>
    box.replaceChildren(h('p', { class: 'message', 'data-kind': 'error' }, err.message)),
  );
  return box;
}

function rightsSection(signal: AbortSignal): HTMLElement {
  const list = h('div');
  void get<{ items: MyRight[] }>('/v1/me/rights')
    .then(({ items }) => {
      if (signal.aborted) return;
      list.replaceChildren(
        table(
          'My rights',
          ['On', 'Right', 'From', 'Until'],
          items.map((r) => [
            `${r.scope.type} ${r.scope.name}`,
            r.right,
            h('span', { 'data-origin': r.kind }, r.origin),
            r.until ? time(r.until) : 'no end',
          ]),
          { empty: 'No rights yet. Ask for access on the Requests page.' },
        ),
      );
    })
    .catch((err: Error) => toast(err.message));
  return h('section', { 'aria-labelledby': 'rights-h' }, h('h2', { id: 'rights-h' }, 'My rights'), list);
}

export const accountPage: Page = {
  title: 'My account',
  render(main, _params, signal) {
    main.append(
      heading('My account', h('a', { href: '#/sessions', class: 'button' }, 'My sessions')),
      totpSection(signal),
      rightsSection(signal),
      h(
        'section',
        { 'aria-labelledby': 'keys-h' },
        h('h2', { id: 'keys-h' }, 'SSH public keys'),
        keysEditor('/v1/me/keys', 'My SSH public keys', signal),
      ),
    );
  },
};
