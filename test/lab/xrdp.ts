// xrdp in a lab host: an /etc/xrdp overlay (own certificate, logs in the
// host's log dir, the Xvnc backend, KillDisconnected so each login starts a
// fresh session), optional local password accounts (passwd/shadow/group
// overlays, e.g. a stand-in for a Windows account), a private /run/xrdp, and
// xrdp-sesman + xrdp started inside the host. Call prepareXrdp from
// LabOptions.prepare (the overlay must exist before the host starts) and
// startXrdp once the lab is up; lab.stop() ends them with the host.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { LabHost, LabHostInfo } from './lab.js';

export const XRDP_PORT = 3389;

export interface LocalAccount {
  name: string;
  uid: number;
  password: string;
}

export interface XrdpOptions {
  /** Local accounts with passwords, added to the host's own copies of passwd, shadow and group. */
  localAccounts?: LocalAccount[];
  /** The host's /etc/pam.d/xrdp-sesman (default: the system's, pam_unix through common-auth). */
  pamSesman?: string;
  /** What the desktop shows (startwm.sh body); default: an xterm with a line of text on the Xvnc background. */
  startwm?: string;
}

export const xrdpLogs = (h: LabHostInfo) => ({
  xrdp: join(h.logDir, 'xrdp.log'),
  sesman: join(h.logDir, 'xrdp-sesman.log'),
  stdio: join(h.logDir, 'xrdp-stdio.log'),
});

/** Sets the first `key=` line (commented or not); every one with `all` (e.g. EnableSyslog in each section). */
const setIni = (text: string, key: string, value: string, all = false) => {
  const re = new RegExp(`^[#;]?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}=.*$`, all ? 'gm' : 'm');
  return text.replace(re, `${key}=${value}`);
};

export function prepareXrdp(h: LabHostInfo, o: XrdpOptions = {}): void {
  const etc = join(h.etcDir, 'xrdp');
  rmSync(etc, { recursive: true, force: true });
  cpSync('/etc/xrdp', etc, { recursive: true, dereference: false, verbatimSymlinks: true });
  rmSync(join(etc, 'cert.pem'), { force: true });
  rmSync(join(etc, 'key.pem'), { force: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${h.name}`,
      '-keyout',
      join(etc, 'key.pem'),
      '-out',
      join(etc, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const logs = xrdpLogs(h);
  let xrdp = readFileSync(join(etc, 'xrdp.ini'), 'utf8');
  xrdp = setIni(xrdp, 'port', String(XRDP_PORT));
  xrdp = setIni(xrdp, 'autorun', 'Xvnc');
  xrdp = setIni(xrdp, 'certificate', '/etc/xrdp/cert.pem');
  xrdp = setIni(xrdp, 'key_file', '/etc/xrdp/key.pem');
  xrdp = setIni(xrdp, 'LogFile', logs.xrdp);
  xrdp = setIni(xrdp, 'EnableSyslog', 'false', true);
  writeFileSync(join(etc, 'xrdp.ini'), xrdp);
  let sesman = readFileSync(join(etc, 'sesman.ini'), 'utf8');
  sesman = setIni(sesman, 'AllowRootLogin', 'false');
  sesman = setIni(sesman, 'KillDisconnected', 'true');
  sesman = setIni(sesman, 'DisconnectedTimeLimit', '0');
  sesman = setIni(sesman, 'LogFile', logs.sesman);
  sesman = setIni(sesman, 'EnableSyslog', 'false', true);
  writeFileSync(join(etc, 'sesman.ini'), sesman);
  writeFileSync(
    join(etc, 'startwm.sh'),
    `#!/bin/sh\n${o.startwm ?? "exec xterm -geometry 60x12+40+40 -bg white -fg black -T jmp -e sh -c 'echo desktop of $(hostname) for $(id -un); exec sleep 100000'"}\n`,
    { mode: 0o755 },
  );
  if (o.pamSesman !== undefined) writeFileSync(join(h.etcDir, 'pam.d', 'xrdp-sesman'), o.pamSesman);
  if (o.localAccounts?.length) {
    const add = (file: string, lines: string[], mode: number) => {
      const base = readFileSync(`/etc/${file}`, 'utf8').replace(/\n?$/, '\n');
      writeFileSync(join(h.etcDir, file), base + lines.join('\n') + '\n', { mode });
    };
    const accts = o.localAccounts;
    add(
      'passwd',
      accts.map((a) => `${a.name}:x:${a.uid}:${a.uid}::/home/${a.name}:/bin/sh`),
      0o644,
    );
    add(
      'group',
      accts.map((a) => `${a.name}:x:${a.uid}:`),
      0o644,
    );
    const hash = (pw: string) => execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: pw }).toString().trim();
    add(
      'shadow',
      accts.map((a) => `${a.name}:${hash(a.password)}:19000:0:99999:7:::`),
      0o640,
    );
    for (const a of accts) {
      const home = join(h.homeDir, a.name);
      mkdirSync(home, { recursive: true });
      chownSync(home, a.uid, a.uid);
    }
  }
}

/** Starts xrdp-sesman and xrdp inside the host (private /run/xrdp); resolves once port 3389 answers. */
export async function startXrdp(h: LabHost): Promise<void> {
  const anchor = String(h.pids().anchor);
  const inHost = ['-t', anchor, '-m', '-u', '-n', '--'];
  // /run is shared with the root namespace: the host gets its own /run/xrdp (pid files, sockets).
  await h.exec(`mkdir -p /run/xrdp ${join(h.dir, 'run-xrdp')} && mount --bind ${join(h.dir, 'run-xrdp')} /run/xrdp`);
  const out = openSync(xrdpLogs(h).stdio, 'a');
  for (const argv of [
    ['/usr/sbin/xrdp-sesman', '--nodaemon'],
    ['/usr/sbin/xrdp', '--nodaemon'],
  ]) {
    const p = spawn('nsenter', [...inHost, ...argv], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
    p.unref();
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(XRDP_PORT, h.address);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`xrdp in ${h.name} did not listen on ${XRDP_PORT}: ${readLog(h)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readLog = (h: LabHostInfo) => {
  try {
    return readFileSync(xrdpLogs(h).stdio, 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
};
