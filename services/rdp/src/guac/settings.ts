// The RDP settings guacd gets for one desktop (pure). guacd asks for them by
// name in its `args` instruction; guacamole-lite answers in that order.
import type { DesktopRedeemResponse } from '@jmp/contract/schemas/desktop';

export interface Login {
  username: string;
  password: string;
  domain?: string;
}
export interface Screen {
  width: number;
  height: number;
  dpi: number;
}
export interface SettingsOptions {
  sessionId: string;
  recordingDir: string;
  /** Each person's redirected drive is `<driveDir>/<user>` (when the service allows drives). */
  driveDir: string;
  ignoreCert: boolean;
}

export function rdpSettings(
  target: DesktopRedeemResponse,
  login: Login,
  screen: Screen,
  o: SettingsOptions,
): Record<string, string> {
  const s: Record<string, string> = {
    hostname: target.host.address,
    port: String(target.host.port),
    username: login.username,
    password: login.password,
    // Linux desktops: xrdp has no CredSSP (NLA), and the ticket must reach pam_jmp as the password.
    security: target.credentials === 'ticket' ? 'tls' : 'any',
    'ignore-cert': String(o.ignoreCert),
    width: String(screen.width),
    height: String(screen.height),
    dpi: String(screen.dpi),
    'resize-method': 'display-update',
    'client-name': 'jmp',
    // The display only: typed keys (passwords) are never recorded (recording-include-keys stays off).
    'recording-path': o.recordingDir,
    'recording-name': o.sessionId,
    'create-recording-path': 'true',
  };
  if (login.domain) s.domain = login.domain;
  if (!target.policy.clipboard) {
    s['disable-copy'] = 'true';
    s['disable-paste'] = 'true';
  }
  if (target.policy.drive) {
    s['enable-drive'] = 'true';
    s['drive-name'] = 'jmp';
    s['drive-path'] = `${o.driveDir}/${target.user}`;
    s['create-drive-path'] = 'true';
  }
  return s;
}

/** Screen size from the page's query, clamped to what guacd and a browser handle. */
export function screenOf(q: URLSearchParams): Screen {
  const int = (name: string, def: number, min: number, max: number) => {
    const v = Number(q.get(name) ?? def);
    return Number.isInteger(v) ? Math.min(max, Math.max(min, v)) : def;
  };
  return { width: int('width', 1024, 320, 8192), height: int('height', 768, 240, 8192), dpi: int('dpi', 96, 48, 480) };
}
