// `make dev`: jmp-api on embedded defaults, jmp-ssh, jmp-sftp, jmp-socket and
// (with guacd installed) guacd + jmp-rdp pointed at it and, run as root, the demo target hosts h1 and h2 as lab hosts enrolled
// by their real agents (scripts/dev/targets.ts); then the lines to try.
// Ctrl-C stops everything and removes the hosts; after a crash the next run
// ends what the crashed one left (scripts/dev/processes.ts).
import './dev/lab-env.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import ssh2 from 'ssh2';
import { loadOrCreateHostKey } from '../services/ssh/src/server/host-key.js';
import { fingerprintOf } from '../services/socket/src/ssh/host-key-pin.js';
import type { Lab } from '../test/lab/lab.js';
import { until } from '../test/lib/until.js';
import { Supervisor } from './dev/processes.js';
import { admitTargets, DEMO_HOSTS, startTargets } from './dev/targets.js';

const devDir = resolve(process.env.JMP_DEV_DIR ?? '.dev');
const apiPort = process.env.JMP_API_PORT ?? '8080';
const sshPort = process.env.JMP_SSH_PORT ?? '2200';
const socketPort = process.env.JMP_SOCKET_PORT ?? '8081';
const sftpPort = process.env.JMP_SFTP_PORT ?? '2222';
const rdpPort = process.env.JMP_RDP_PORT ?? '8082';
const guacdPort = process.env.JMP_GUACD_PORT ?? '4822';
const GUACD = '/usr/sbin/guacd';
const common = {
  JMP_LOG_LEVEL: process.env.JMP_LOG_LEVEL ?? 'warn',
  JMP_DRAIN_SECONDS: process.env.JMP_DRAIN_SECONDS ?? '3',
};
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const sup = new Supervisor(devDir);
let lab: Lab | null = null;
let stopping = false;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await sup.stop();
  await lab?.stop(); // lab.ts removes the hosts on SIGINT/SIGTERM by itself too; stop() is idempotent
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

function fail(err: unknown): void {
  if (stopping) return;
  process.stderr.write(`dev: ${(err as Error)?.message ?? String(err)}\n`);
  void shutdown(1);
}

function start(name: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): void {
  if (stopping) return;
  sup.start(
    name,
    args,
    { ...common, ...env },
    (line) => {
      if (!line.startsWith('{')) say(line); // JSON log lines stay quiet
      onLine?.(line);
    },
    (code, sig) => {
      if (!stopping) fail(new Error(`${name} exited (${code ?? sig}); stopping everything`));
    },
  );
}

const listening = (port: string) =>
  new Promise<boolean>((r) => {
    const s = connect(Number(port), '127.0.0.1', () => {
      s.destroy();
      r(true);
    });
    s.on('error', () => r(false));
  });

/** What the seed printed once (and wrote to demo-credentials.txt). */
function demoCredentials(): { alicePassword: string | null; enrolmentToken: string | null } {
  const file = resolve(devDir, 'demo-credentials.txt');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return {
    alicePassword: /^\s+alice\s+(\S+)/m.exec(text)?.[1] ?? null,
    enrolmentToken: /enrolment token for agents: (jmpe_\S+)/.exec(text)?.[1] ?? null,
  };
}

async function afterApi(apiUrl: string): Promise<void> {
  const secret = readFileSync(resolve(devDir, 'secret.key'), 'utf8').trim();
  const serviceToken = (role: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'services/api/src/main.ts', 'service-token', role], {
      env: { ...process.env, JMP_SECRET_KEY: secret },
      encoding: 'utf8',
    }).stdout.trim();
  const creds = demoCredentials();
  if (lab)
    await admitTargets(lab, {
      devDir,
      apiUrl,
      adminToken: serviceToken('admin'),
      demoToken: creds.enrolmentToken,
      say,
    });
  if (stopping) return;
  // Made here, before jmp-ssh starts, so jmp-socket can pin its fingerprint.
  const hostKeyPath = resolve(devDir, 'ssh_host_ed25519_key');
  const hostKey = ssh2.utils.parseKey(loadOrCreateHostKey(hostKeyPath));
  if (hostKey instanceof Error) throw hostKey;
  const fingerprint = fingerprintOf(hostKey.getPublicSSH());
  start('jmp-ssh', ['services/ssh/src/main.ts'], {
    JMP_API_URL: apiUrl,
    JMP_SERVICE_TOKEN: serviceToken('ssh'),
    JMP_SSH_HOST: '127.0.0.1',
    JMP_SSH_PORT: sshPort,
    JMP_SSH_HOST_KEY: hostKeyPath,
    JMP_RECORDING_DIR: resolve(devDir, 'recordings'),
    JMP_RECORDING_SPOOL_DIR: resolve(devDir, 'recordings-spool'),
  });
  // Files through any SFTP client, with jmp-ssh's host key (one key for both ports).
  start('jmp-sftp', ['services/sftp/src/main.ts'], {
    JMP_API_URL: apiUrl,
    JMP_SERVICE_TOKEN: serviceToken('sftp'),
    JMP_SFTP_HOST: '127.0.0.1',
    JMP_SFTP_PORT: sftpPort,
    JMP_SFTP_HOST_KEY: hostKeyPath,
    JMP_SFTP_SPOOL_DIR: resolve(devDir, 'sftp-spool'),
  });
  // Desktops: guacd on loopback (it has no authentication), jmp-rdp in front.
  const desktops = existsSync(GUACD);
  if (desktops) {
    sup.startCommand(
      'guacd',
      [GUACD, '-f', '-b', '127.0.0.1', '-l', guacdPort, '-L', 'warning'],
      {},
      () => {},
      (code, sig) => {
        if (!stopping) fail(new Error(`guacd exited (${code ?? sig}); stopping everything`));
      },
    );
    start('jmp-rdp', ['services/rdp/src/main.ts'], {
      JMP_API_URL: apiUrl,
      JMP_SERVICE_TOKEN: serviceToken('rdp'),
      JMP_RDP_LISTEN: `127.0.0.1:${rdpPort}`,
      JMP_RDP_GUACD: `127.0.0.1:${guacdPort}`,
      JMP_RDP_RECORDING_DIR: resolve(devDir, 'desktop-recordings'),
      JMP_RECORDING_DIR: resolve(devDir, 'recordings'),
    });
  } else say(`dev: ${GUACD} is missing (make deps installs it), so no desktops`);
  // The console (services/web/dist, or a page saying how to build it), /v1 and /rdp/ on one origin.
  start('jmp-socket', ['services/socket/src/main.ts'], {
    ...(desktops ? { JMP_SOCKET_PROXY_RDP: `http://127.0.0.1:${rdpPort}` } : {}),
    JMP_API_URL: apiUrl,
    JMP_SERVICE_TOKEN: serviceToken('socket'),
    JMP_SSH_HOST: '127.0.0.1',
    JMP_SSH_PORT: sshPort,
    JMP_SSH_HOST_KEY: fingerprint,
    JMP_SOCKET_LISTEN: `127.0.0.1:${socketPort}`,
    JMP_WEB_DIR: resolve('services/web/dist'),
    JMP_SOCKET_PROXY_API: 'true',
  });
  await until(`jmp-ssh on 127.0.0.1:${sshPort}`, () => listening(sshPort), 60_000, 200);
  await until(`jmp-socket on 127.0.0.1:${socketPort}`, () => listening(socketPort), 60_000, 200);
  await until(`jmp-sftp on 127.0.0.1:${sftpPort}`, () => listening(sftpPort), 60_000, 200);
  if (desktops) await until(`jmp-rdp on 127.0.0.1:${rdpPort}`, () => listening(rdpPort), 60_000, 200);
  if (stopping) return;
  say(readyText(fingerprint, creds.alicePassword));
}

function readyText(fingerprint: string, password: string | null): string {
  const row = (prompt: string, typed: string, note: string) => `  ${`${prompt} ${typed}`.padEnd(36)} # ${note}`;
  const where = resolve(devDir, 'demo-credentials.txt');
  const pw = password ? `password: ${password}  (every demo password: ${where})` : `password in ${where}`;
  const lines = [
    '',
    'jmp is ready.',
    `  console:  http://127.0.0.1:${socketPort}/   (web console and terminal, the same users)`,
    `  jmp-ssh:  127.0.0.1:${sshPort}, host key ${fingerprint} (ssh asks you to confirm it the first time)`,
    `  jmp-sftp: sftp -P ${sftpPort} alice@127.0.0.1   (/ lists her hosts; the same host key)`,
    '',
  ];
  if (lab) {
    lines.push(
      `Try the whole chain: alice (ops of shop/web) logs in to ${DEMO_HOSTS[0]} as herself and becomes root.`,
      row('$', `ssh -p ${sshPort} alice@127.0.0.1`, pw),
      row('[alice@jmp]$', '1', `${DEMO_HOSTS[0]}, the first host in the menu`),
      row(`alice@${DEMO_HOSTS[0]}:~$`, 'whoami', 'alice'),
      row(`alice@${DEMO_HOSTS[0]}:~$`, 'sudo -n id -u', `0: root on ${DEMO_HOSTS[0]} through jmp, no password`),
      '',
      `Desktops: the console's Hosts page, "Desktop" (a host running xrdp, or a Windows server).`,
      '',
      'Ctrl-C stops everything and removes the demo hosts.',
    );
  } else {
    lines.push(
      row('$', `ssh -p ${sshPort} alice@127.0.0.1`, pw),
      `  (the demo hosts ${DEMO_HOSTS.join(', ')} run only when make dev runs as root)`,
      '',
      'Ctrl-C stops everything.',
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  mkdirSync(devDir, { recursive: true });
  await sup.claim(say);
  let apiHost = '127.0.0.1';
  if (process.env.JMP_DEV_TARGETS === 'none') say('dev: JMP_DEV_TARGETS=none: running without the demo target hosts');
  else if (process.getuid?.() !== 0)
    say(
      `dev: not running as root, so without the demo target hosts (${DEMO_HOSTS.join(', ')}); run make dev as root for the whole chain`,
    );
  else {
    say(
      `dev: building the demo target hosts ${DEMO_HOSTS.join(', ')} (lab ${process.env.JMP_LAB_PREFIX}*, ${process.env.JMP_LAB_NET}.0/24, ${process.env.JMP_LAB_DIR})`,
    );
    // jmp-api listens on the lab bridge: the hosts' agents reach it there, jmp-ssh and jmp-socket too.
    const bridge = `${process.env.JMP_LAB_NET}.1`;
    lab = await startTargets(devDir, `http://${bridge}:${apiPort}`);
    if (stopping) return void (await lab.stop());
    apiHost = lab.bridgeAddress;
  }
  const apiUrl = `http://${apiHost}:${apiPort}`;
  start(
    'jmp-api',
    ['services/api/src/main.ts', 'dev'],
    { JMP_API_HOST: apiHost, JMP_API_PORT: apiPort, JMP_DEV_DIR: devDir },
    (line) => {
      if (line.startsWith('jmp-api is listening')) afterApi(apiUrl).catch(fail);
    },
  );
}

main().catch(fail);
