// A network device for the tests: OpenSSH's sshd restricted to legacy
// algorithms (diffie-hellman-group14-sha1, ssh-rsa, aes128-cbc, hmac-sha1) with
// a local password account whose shell is a small device-like CLI. It runs in
// its own mount namespace (its own /etc/passwd and /etc/shadow) on a loopback
// port, so nothing of the machine's accounts changes.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LegacySshd {
  port: number;
  dir: string;
  account: string;
  /** Lines the device CLI received. */
  received(): string[];
  /** sshd's own log. */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * A directory with the device account's passwd, shadow and group files (the
 * machine's plus the account, whose shell is device-cli.sh) and the CLI's log.
 */
export function deviceAccount(account: string, password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'jmp-device-'));
  chmodSync(dir, 0o755);
  copyFileSync(new URL('./device-cli.sh', import.meta.url), join(dir, 'device-cli.sh'));
  chmodSync(join(dir, 'device-cli.sh'), 0o755);
  const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: password }).toString().trim();
  writeFileSync(
    join(dir, 'passwd'),
    `${readFileSync('/etc/passwd', 'utf8')}${account}:x:4242:4242::${dir}:${dir}/device-cli.sh\n`,
  );
  writeFileSync(join(dir, 'shadow'), `${readFileSync('/etc/shadow', 'utf8')}${account}:${hash}:19000:0:99999:7:::\n`, {
    mode: 0o640,
  });
  writeFileSync(join(dir, 'group'), `${readFileSync('/etc/group', 'utf8')}${account}:x:4242:\n`);
  writeFileSync(join(dir, 'device-cli.log'), '');
  chownSync(join(dir, 'device-cli.log'), 4242, 4242);
  return dir;
}

/** Runs `cmd` with the account files of `dir` as the machine's (a private mount namespace). */
export function withAccountFiles(dir: string, cmd: string): string[] {
  return [
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    `mount --bind ${dir}/passwd /etc/passwd && mount --bind ${dir}/shadow /etc/shadow && ` +
      `mount --bind ${dir}/group /etc/group && exec ${cmd}`,
  ];
}

/** Lines the device CLI received. */
export function receivedLines(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'device-cli.log'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export async function startLegacySshd(account: string, password: string): Promise<LegacySshd> {
  const dir = deviceAccount(account, password);
  const port = await freePort();
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', join(dir, 'host_rsa')]);
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host_rsa`,
      `PidFile ${dir}/sshd.pid`,
      'UsePAM no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication no',
      'PermitRootLogin no',
      'UseDNS no',
      'StrictModes no',
      'KexAlgorithms diffie-hellman-group14-sha1',
      'HostKeyAlgorithms ssh-rsa',
      'Ciphers aes128-cbc',
      'MACs hmac-sha1',
      'MaxAuthTries 6',
      'LogLevel VERBOSE',
      'PrintMotd no',
      'PrintLastLog no',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  const child: ChildProcess = spawn(
    'unshare',
    withAccountFiles(dir, `/usr/sbin/sshd -D -f ${dir}/sshd_config -E ${dir}/sshd.log`),
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      if (readFileSync(join(dir, 'sshd.log'), 'utf8').includes('Server listening')) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(
        `legacy sshd did not start: ${(() => {
          try {
            return readFileSync(join(dir, 'sshd.log'), 'utf8');
          } catch {
            return 'no log';
          }
        })()}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    dir,
    account,
    received: () => receivedLines(dir),
    log: () => readFileSync(join(dir, 'sshd.log'), 'utf8'),
    stop: async () => {
      if (child.exitCode === null) {
        const closed = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await closed;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
