// The WebSocket upgrade of a desktop, checked before it happens: the token
// is redeemed with jmp-api (once, for this browser's web session), the
// person's bound is taken, the session row is opened, and for a Linux desktop
// a compact ticket is fetched. Only then is the socket upgraded and handed to
// guacamole-lite with a token jmp-rdp made itself. A Windows desktop waits
// for the credentials the person typed: the page's first message.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { ApiError, type ApiClient } from '@jmp/contract';
import type { DesktopRedeemResponse } from '@jmp/contract/schemas/desktop';
import type { Logger } from '@jmp/runtime';
import type { Lite } from '../guac/lite.js';
import { liteToken } from '../guac/token.js';
import { rdpSettings, screenOf, type Login, type Screen } from '../guac/settings.js';
import { encodeInstruction, errorInstruction, parseInstruction, STATUS } from '../guac/instruction.js';
import type { Desktops } from '../sessions/desktops.js';
import { DesktopSession, type SessionDeps } from '../desktop/session.js';
import { refuse, sameOrigin, sessionCookie } from './refuse.js';

export interface UpgradeDeps {
  api: ApiClient;
  log: Logger;
  lite: Lite;
  desktops: Desktops;
  instance: string;
  maxPerUser: number;
  recordingDir: string;
  driveDir: string;
  ignoreCert: boolean;
  credentialsMs: number;
  session: Omit<SessionDeps, 'api' | 'log' | 'desktops'>;
}

export const CONNECT_PATHS = new Set(['/rdp/connect', '/connect']);
/** The page's first message on a Windows desktop: `jmp-login` username, domain, password. */
export const LOGIN_OPCODE = 'jmp-login';

const apiStatus = (err: unknown) => (err instanceof ApiError && err.status >= 400 ? err.status : 502);
const apiMessage = (err: unknown) =>
  err instanceof ApiError ? err.message : 'jmp-api could not be asked; try again in a moment';

export function handleUpgrade(d: UpgradeDeps) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    void open(d, req, socket, head).catch((err: unknown) => {
      d.log.error({ err }, 'desktop upgrade failed');
      refuse(socket, 500, 'jmp-rdp failed to open the desktop');
    });
  };
}

async function open(d: UpgradeDeps, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  if (!CONNECT_PATHS.has(url.pathname)) return refuse(socket, 404, 'no such path; desktops connect to /rdp/connect');
  if (!sameOrigin(req.headers.origin, req.headers.host))
    return refuse(socket, 403, 'desktops open only from the console of this site');
  const token = url.searchParams.get('token');
  const session = sessionCookie(req.headers.cookie);
  if (!token) return refuse(socket, 400, 'the desktop link has no token; open the desktop again from the console');
  if (!session) return refuse(socket, 401, 'log in to the console first');

  let target: DesktopRedeemResponse;
  try {
    target = await d.api.desktopRedeem({ token, session });
  } catch (err) {
    d.log.info({ status: apiStatus(err), reason: apiMessage(err) }, 'desktop refused');
    return refuse(socket, apiStatus(err), apiMessage(err));
  }
  const user = target.user;
  const host = target.host.hostname;
  if (!d.desktops.reserve(user)) {
    d.log.info({ user, host }, 'desktop refused: per-person limit on this instance');
    return refuse(socket, 429, `you have ${d.maxPerUser} desktops open or opening; close one first`);
  }
  const id = randomUUID();
  try {
    await d.api.sessionStarted({
      id,
      user,
      host,
      protocol: 'rdp',
      sourceAddress: req.socket.remoteAddress?.slice(0, 64),
      instance: d.instance,
      maxPerUser: d.maxPerUser,
    });
  } catch (err) {
    d.desktops.release(user);
    d.log.info({ user, host, reason: apiMessage(err) }, 'desktop refused');
    return refuse(socket, apiStatus(err) === 409 ? 429 : apiStatus(err), apiMessage(err));
  }
  const desktop = new DesktopSession({ ...d.session, api: d.api, log: d.log, desktops: d.desktops }, id, target);
  const fail = (reason: string, status: number, message: string) => {
    d.desktops.release(user);
    void d.api
      .sessionEnded(id, { bytesIn: 0, bytesOut: 0, endReason: reason })
      .catch((err: unknown) => d.log.warn({ err, session: id }, 'could not report the end of a desktop'));
    refuse(socket, status, message);
  };

  let login: Login | null = null;
  if (target.credentials === 'ticket') {
    try {
      const t = await d.api.ticket({ user, host, session: id, format: 'compact' });
      login = { username: user, password: t.ticket };
    } catch (err) {
      return fail('ticket_refused', apiStatus(err), apiMessage(err));
    }
  }
  if (socket.destroyed) return fail('client_gone', 499, 'gone');
  const screen = screenOf(url.searchParams);
  d.lite.wss.handleUpgrade(req, socket, head, (ws) => {
    desktop.ws = ws;
    d.desktops.add(desktop);
    d.log.info({ session: id, user, host, credentials: target.credentials }, 'desktop opening');
    if (login) return void connect(d, desktop, ws, login, screen);
    void awaitLogin(d, desktop, ws).then((typed) => {
      if (typed) void connect(d, desktop, ws, typed, screen);
    });
  });
}

/** Hands the checked WebSocket to guacamole-lite with the full settings. */
async function connect(d: UpgradeDeps, desktop: DesktopSession, ws: WebSocket, login: Login, screen: Screen) {
  const settings = rdpSettings(desktop.target, login, screen, {
    sessionId: desktop.id,
    recordingDir: d.recordingDir,
    driveDir: d.driveDir,
    ignoreCert: d.ignoreCert,
  });
  if (ws.readyState !== ws.OPEN) return void desktop.finish(undefined);
  await d.lite.open(ws, liteToken(d.lite.key, { connection: { type: 'rdp', settings } }), (c) => desktop.attach(c));
}

/**
 * Windows: the page types the credentials for this one connection and sends
 * them as its first message; they go to guacd and nowhere else (no log, no
 * URL, no row). The tunnel of the page opens when it gets its first
 * instruction, so jmp-rdp sends the session id first.
 */
function awaitLogin(d: UpgradeDeps, desktop: DesktopSession, ws: WebSocket): Promise<Login | null> {
  ws.send(encodeInstruction(['', desktop.id]));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      cleanup();
      ws.send(errorInstruction('no credentials were sent in time; open the desktop again', STATUS.clientTimeout));
      desktop.end('no_credentials', 'no credentials were sent in time');
      resolve(null);
    }, d.credentialsMs);
    const onMessage = (m: Buffer) => {
      const el = parseInstruction(m.toString('utf8'));
      if (el?.[0] === 'nop') return;
      cleanup();
      const [op, username = '', domain = '', password = ''] = el ?? [];
      if (op !== LOGIN_OPCODE || !username || username.length > 256 || domain.length > 256 || password.length > 1024) {
        desktop.end('bad_credentials_message', 'the page sent no valid credentials');
        return resolve(null);
      }
      resolve({ username, password, ...(domain ? { domain } : {}) });
    };
    const onClose = () => {
      cleanup();
      desktop.end('client_gone', 'the page closed');
      resolve(null);
    };
    const cleanup = () => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}
