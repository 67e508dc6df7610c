// A host's remote desktop in the page (DESIGN flow 8): a single-use token from
// jmp-api, then Guacamole's client over a WebSocket to jmp-rdp (/rdp/connect).
// Windows hosts: the person types the credentials for this one connection;
// they go over the WebSocket as its first message, never into a URL or storage.
import Guacamole from 'guacamole-common-js';
import type { DesktopTokenResponse } from '@jmp/contract/schemas/desktop';
import { post } from '../api.js';
import { field, h } from '../dom.js';
import type { Page } from '../router.js';
import { heading } from './common.js';

interface Login {
  username: string;
  domain: string;
  password: string;
}

const socketUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rdp/connect`;

/** Asks for the credentials of a Windows host; resolves once submitted. */
function credentialsForm(box: HTMLElement, host: string): Promise<Login> {
  return new Promise((resolve) => {
    const username = h('input', { name: 'username', autocomplete: 'off', required: true });
    const domain = h('input', { name: 'domain', autocomplete: 'off' });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'off', required: true });
    const form = h(
      'form',
      { class: 'desktop-login' },
      h('p', {}, `${host} is a Windows host: type its credentials for this connection. jmp does not keep them.`),
      field('User', username),
      field('Domain', domain, 'optional'),
      field('Password', password),
      h('button', { type: 'submit' }, 'Connect'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const login = { username: username.value, domain: domain.value, password: password.value };
      password.value = '';
      form.remove();
      resolve(login);
    });
    box.append(form);
    username.focus();
  });
}

function connect(
  box: HTMLElement,
  status: HTMLElement,
  t: DesktopTokenResponse,
  login: Login | null,
  signal: AbortSignal,
) {
  const tunnel = new Guacamole.WebSocketTunnel(socketUrl());
  const client = new Guacamole.Client(tunnel);
  const display = client.getDisplay();
  const screen = h('div', { class: 'desktop-screen', 'data-state': 'connecting' });
  screen.append(display.getElement());
  box.append(screen);
  const say = (text: string, alert = false) => {
    status.textContent = text;
    if (alert) status.setAttribute('role', 'alert');
  };

  let sent = false;
  tunnel.onstatechange = (state: number) => {
    if (login && !sent && state === Guacamole.Tunnel.State.OPEN) {
      sent = true;
      tunnel.sendMessage('jmp-login', login.username, login.domain, login.password);
      login.password = '';
    }
  };
  const fit = () => {
    const w = display.getWidth();
    const hgt = display.getHeight();
    if (!w || !hgt) return;
    display.scale(Math.min(box.clientWidth / w, (window.innerHeight - box.getBoundingClientRect().top - 16) / hgt, 1));
  };
  display.onresize = fit;
  window.addEventListener('resize', fit, { signal });

  client.onstatechange = (state: number) => {
    screen.dataset.state = String(state);
    if (state === 3) {
      screen.dataset.state = 'connected';
      say(`Connected to ${t.host}.`);
    } else if (state === 5 && screen.dataset.closed !== 'error') {
      screen.dataset.state = 'disconnected';
      say('The desktop closed. Open it again to reconnect.', true);
    }
  };
  client.onerror = (s: Guacamole.Status) => {
    screen.dataset.closed = 'error';
    screen.dataset.state = 'error';
    say(`The desktop failed: ${s.message ?? 'connection error'}. Open it again to retry.`, true);
  };
  tunnel.onerror = (s: Guacamole.Status) => {
    if (screen.dataset.closed === 'error') return;
    screen.dataset.closed = 'error';
    screen.dataset.state = 'error';
    say(
      `The desktop could not be opened (${s.message ?? 'refused'}): the link may have expired or been used. Open it again.`,
      true,
    );
  };

  const mouse = new Guacamole.Mouse(display.getElement());
  mouse.onEach(['mousedown', 'mouseup', 'mousemove'], (e: Guacamole.Event) =>
    client.sendMouseState((e as unknown as { state: Guacamole.Mouse.State }).state, true),
  );
  const keyboard = new Guacamole.Keyboard(document);
  keyboard.onkeydown = (k: number) => {
    client.sendKeyEvent(1, k);
    return false;
  };
  keyboard.onkeyup = (k: number) => client.sendKeyEvent(0, k);

  const dpi = Math.round(96 * (window.devicePixelRatio || 1));
  const width = Math.max(640, Math.floor(box.clientWidth || 1024));
  const height = Math.max(480, Math.floor(window.innerHeight - box.getBoundingClientRect().top - 16));
  say(`Connecting to ${t.host}…`);
  client.connect(`token=${encodeURIComponent(t.token)}&width=${width}&height=${height}&dpi=${dpi}`);
  signal.addEventListener('abort', () => {
    keyboard.onkeydown = null;
    keyboard.onkeyup = null;
    keyboard.reset();
    client.disconnect();
  });
}

export const desktopPage: Page = {
  title: 'Desktop',
  async render(main, params, signal) {
    const host = params.host!;
    const status = h('p', { class: 'desktop-status', 'aria-live': 'polite' });
    const box = h('div', { class: 'desktop' });
    main.append(heading(`Desktop of ${host}`), status, box);
    const t = await post<DesktopTokenResponse>('/v1/desktop/tokens', { host });
    if (signal.aborted) return;
    let login: Login | null = null;
    if (t.credentials === 'typed') {
      // The token lives ≤ 60 s: ask for a fresh one once the person has typed.
      login = await credentialsForm(box, host);
      if (signal.aborted) return;
      const fresh = await post<DesktopTokenResponse>('/v1/desktop/tokens', { host });
      if (signal.aborted) return;
      return connect(box, status, fresh, login, signal);
    }
    connect(box, status, t, login, signal);
  },
};
