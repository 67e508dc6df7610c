// Log in: password first, then the TOTP code when jmp-api asks for it
// (totp_required). The password stays in this closure only until the second
// step is done.
import type { AuthUser } from '@jmp/contract/schemas/auth';
import { ApiError, post } from '../api.js';
import { field, h, message, setMessage } from '../dom.js';
import { navigate, type Page } from '../router.js';
import { setSession } from '../session-store.js';
import { heading } from './common.js';

interface LoginAnswer {
  ok: true;
  user: AuthUser;
  csrfToken: string;
  expiresAt: string;
}

/** A sentence shown above the form (e.g. why the person was sent here). */
let notice = '';
export function loginNotice(text: string): void {
  notice = text;
}

export const loginPage = (onLoggedIn: (u: AuthUser) => void): Page => ({
  title: 'Log in',
  render(main) {
    const next = new URLSearchParams(location.hash.split('?')[1] ?? '').get('next') ?? '/hosts';
    const username = h('input', {
      name: 'username',
      autocomplete: 'username',
      required: true,
      autocapitalize: 'none',
      spellcheck: 'false',
    });
    const password = h('input', {
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    const totp = h('input', {
      name: 'totp',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      pattern: '[0-9]{6}',
      maxlength: 6,
      required: true,
    });
    const msg = message();
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
    const step1 = h('div', {}, field('Username', username), field('Password', password));
    const step2 = h(
      'div',
      { hidden: true },
      field('Authenticator code', totp, 'The 6-digit code from your authenticator app'),
    );
    const form = h('form', { class: 'card login', novalidate: true }, step1, step2, msg, submit);
    if (notice) {
      setMessage(msg, notice);
      notice = '';
    }
    let secondStep = false;
    let busy = false;

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (busy) return;
      const name = username.value.trim();
      if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) {
        setMessage(msg, 'Enter your jmp username (lower case letters, digits, _ and -).');
        username.focus();
        return;
      }
      if (!password.value) {
        setMessage(msg, 'Enter your password.');
        password.focus();
        return;
      }
      if (secondStep && !/^\d{6}$/.test(totp.value.trim())) {
        setMessage(msg, 'Enter the 6 digits of your authenticator code.');
        totp.focus();
        return;
      }
      busy = true;
      submit.disabled = true;
      setMessage(msg, '', 'ok');
      try {
        const r = await post<LoginAnswer>('/v1/auth/web', {
          username: name,
          password: password.value,
          ...(secondStep ? { totp: totp.value.trim() } : {}),
        });
        password.value = '';
        setSession(r.user, r.csrfToken);
        onLoggedIn(r.user);
        navigate(next.startsWith('/') && next !== '/login' ? next : '/hosts');
      } catch (err) {
        if (err instanceof ApiError && err.code === 'totp_required') {
          secondStep = true;
          step1.hidden = true;
          step2.hidden = false;
          submit.textContent = 'Verify';
          setMessage(msg, '', 'ok');
          totp.focus();
        } else if (err instanceof ApiError && secondStep && err.status === 401) {
          // A wrong code: the person types it again; the password is still held.
          totp.value = '';
          setMessage(msg, err.message);
          totp.focus();
        } else {
          // Anything else starts over from the password.
          secondStep = false;
          step1.hidden = false;
          step2.hidden = true;
          submit.textContent = 'Log in';
          password.value = '';
          totp.value = '';
          setMessage(msg, (err as Error).message);
          password.focus();
        }
      } finally {
        busy = false;
        submit.disabled = false;
      }
    });
    main.append(h('div', { class: 'login-wrap' }, heading('Log in to jmp'), form));
    (username.value ? password : username).focus();
  },
});
