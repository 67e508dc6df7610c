// `make dev` as a new user meets it (as root): scripts/dev.ts with its own dev
// dir, ports and lab names, and the lines it prints typed as printed into the
// real OpenSSH client on a pty: alice reaches h1 (a lab host: sshd, pam_jmp,
// libnss_jmp, the jmp-agent bundle enrolled with the demo token) as herself
// and becomes root. Then a crash (kill -9) and a restart that ends what the
// crashed run left and brings the same hosts back; Ctrl-C (SIGINT) removes
// the namespaces and every process.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_DIR } from '../lab/lab.js';
import { freePort } from '../bench/lib/process.js';
import { until } from '../lib/until.js';
import { spawnPty, type Pty } from './pty.js';

const LAB = { JMP_LAB_PREFIX: 'jh9-', JMP_LAB_NET: '10.249.0', JMP_LAB_DIR: '/run/jmp-h9-lab' };
const JMP_PROMPT = /\[alice@jmp\]\$ (?:\x1b\[K)?/;
const H1_PROMPT = /alice@h1:[^\r\n]*\$ /;
const root = process.getuid?.() === 0;

let tmp = '';
let devDir = '';
let env: NodeJS.ProcessEnv = {};
const runs: DevRun[] = [];
const ptys: Pty[] = [];

interface DevRun {
  proc: ChildProcessWithoutNullStreams;
  out: () => string;
  exited: Promise<number | string>;
}

function startDev(): DevRun {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
    cwd: REPO_DIR,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout.on('data', (d: Buffer) => {
    text += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const exited = new Promise<number | string>((r) => proc.once('exit', (code, sig) => r(code ?? sig ?? 'unknown')));
  const run = { proc, out: () => text, exited };
  runs.push(run);
  return run;
}

async function ready(run: DevRun): Promise<string> {
  await until(
    'make dev to print its lines to try',
    () => {
      if (run.proc.exitCode !== null) throw new Error(`scripts/dev.ts exited with ${run.proc.exitCode}:\n${run.out()}`);
      return run.out().includes('Ctrl-C stops everything');
    },
    100_000,
    200,
  );
  return run.out();
}

/** The printed lines: the ssh command, the password, the menu choice, the commands on h1 (as typed). */
function printed(out: string) {
  const ssh = /^ {2}\$ (ssh .+?)\s+# password: (\S+)/m.exec(out);
  const menu = /^ {2}\[alice@jmp\]\$ (\S.*?)\s+#/m.exec(out);
  const onHost = [...out.matchAll(/^ {2}alice@h1:~\$ (\S.*?)\s+#/gm)].map((m) => m[1]!);
  const fingerprint = /host key (SHA256:\S+)/.exec(out)?.[1];
  const consoleUrl = /console:\s+(http:\/\/\S+)/.exec(out)?.[1];
  assert.ok(ssh && menu && fingerprint && consoleUrl, `the lines to try are printed:\n${out}`);
  return { command: ssh[1]!, password: ssh[2]!, menu: menu[1]!, onHost, fingerprint, consoleUrl };
}

/** Types the printed lines; returns what each command on h1 printed. */
async function tryTheLines(out: string, knownHosts: string): Promise<string[]> {
  const lines = printed(out);
  assert.deepEqual(lines.onHost, ['whoami', 'sudo -n id -u']);
  const [ssh, ...args] = lines.command.split(/\s+/);
  // Only isolation from this machine's ssh config and keys; the printed command as it is.
  const p = spawnPty(
    [
      ssh!,
      '-F',
      '/dev/null',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'PubkeyAuthentication=no',
      ...args,
    ],
    { env: { TERM: 'xterm', LANG: 'C.UTF-8' } },
  );
  ptys.push(p);
  // A person compares the fingerprint ssh shows with the printed one, then says yes.
  assert.ok(
    (await p.expect(/continue connecting \(yes\/no[^)]*\)\? /, 20_000)).includes(lines.fingerprint),
    'ssh shows the printed host key',
  );
  p.send('yes\r');
  await p.expect(/assword: /, 15_000);
  p.send(`${lines.password}\r`);
  assert.match(await p.expect(JMP_PROMPT, 20_000), /1\s+h1\s+10\.249\.0\.\d+/);
  p.send(`${lines.menu}\r`);
  await p.expect(H1_PROMPT, 30_000);
  const outputs: string[] = [];
  for (const cmd of lines.onHost) {
    p.send(`${cmd}\r`);
    outputs.push(await p.expect(H1_PROMPT, 15_000));
  }
  p.send('exit\r');
  await p.expect(JMP_PROMPT, 15_000);
  p.send('exit\r');
  assert.equal(await p.exited, 0, `ssh exit status; transcript:\n${p.transcript().slice(-2000)}`);
  return outputs;
}

const listening = (port: string) =>
  new Promise<boolean>((r) => {
    const s = connect(Number(port), '127.0.0.1', () => {
      s.destroy();
      r(true);
    });
    s.on('error', () => r(false));
  });
const pidAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
};
/** The services' pids as the dev stack recorded them, and embedded Postgres's. */
function recordedPids(): number[] {
  const rec = JSON.parse(readFileSync(join(devDir, 'processes.json'), 'utf8')) as { children: Array<{ pid: number }> };
  const pids = rec.children.map((c) => c.pid);
  const pg = join(devDir, 'pg', 'postmaster.pid');
  if (existsSync(pg)) pids.push(Number(readFileSync(pg, 'utf8').split('\n')[0]));
  return pids;
}
function labLeftovers(): string[] {
  const p = LAB.JMP_LAB_PREFIX;
  const ls = (d: string) =>
    (existsSync(d) ? readdirSync(d) : []).filter((n) => n.startsWith(p)).map((n) => `${d}/${n}`);
  return [
    ...ls('/run/netns'),
    ...ls('/sys/class/net'),
    ...ls('/etc/netns'),
    ...(existsSync(LAB.JMP_LAB_DIR) ? [LAB.JMP_LAB_DIR] : []),
  ];
}

before(async () => {
  if (!root) return;
  tmp = mkdtempSync(join(tmpdir(), 'jmp-dev-stack-'));
  chmodSync(tmp, 0o711); // embedded Postgres runs as its own user and must reach <devDir>/pg
  devDir = join(tmp, 'dev');
  env = {
    ...process.env,
    ...LAB,
    JMP_DEV_DIR: devDir,
    JMP_API_PORT: String(await freePort()),
    JMP_SSH_PORT: String(await freePort()),
    JMP_SOCKET_PORT: String(await freePort()),
    JMP_SFTP_PORT: String(await freePort()),
    JMP_RDP_PORT: String(await freePort()),
    JMP_GUACD_PORT: String(await freePort()),
    JMP_DEV_PG_PORT: String(await freePort()),
  };
  // As on a fresh machine: embedded Postgres, the in-process store, the demo hosts.
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'JMP_DEV_TARGETS', 'JMP_LOG_LEVEL', 'JMP_DRAIN_SECONDS']) delete env[k];
});

after(async () => {
  for (const p of ptys) await p.close();
  for (const r of runs) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
  if (!root) return;
  // Whatever a failed run left: the recorded services (their groups), Postgres, the lab.
  try {
    for (const pid of recordedPids())
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
  } catch {
    /* no record */
  }
  spawnSync(join(REPO_DIR, 'test/lab/lab.sh'), ['down'], { env: { ...process.env, ...LAB }, stdio: 'ignore' });
  rmSync(tmp, { recursive: true, force: true });
});

test(
  'make dev as root: the printed lines work with OpenSSH (alice on h1, sudo); kill -9 then a restart cleans up; Ctrl-C removes everything',
  { skip: !root && 'needs root (network namespaces)', timeout: 240_000 },
  async () => {
    const first = startDev();
    const out1 = await ready(first);
    assert.match(out1, /enrolled h1, h2 with `jmp-agent enroll` \(the demo enrolment token\)/);
    assert.match(printed(out1).consoleUrl, new RegExp(`^http://127\\.0\\.0\\.1:${env.JMP_SOCKET_PORT}/$`));
    await fetch(printed(out1).consoleUrl); // jmp-socket answers there (the console, or how to build it)
    assert.match(out1, new RegExp(`sftp -P ${env.JMP_SFTP_PORT} alice@127\\.0\\.0\\.1`));
    for (const port of [env.JMP_SFTP_PORT!, env.JMP_RDP_PORT!, env.JMP_GUACD_PORT!])
      assert.equal(await listening(port), true, `port ${port} (jmp-sftp, jmp-rdp, guacd) is open`);
    const [whoami, sudo] = await tryTheLines(out1, join(tmp, 'known_hosts.1'));
    assert.match(whoami!, /[\r\n]alice\r\n/);
    assert.match(sudo!, /[\r\n]0\r\n/);

    // A crash: the services, Postgres and the lab hosts stay behind.
    const left = recordedPids();
    first.proc.kill('SIGKILL');
    await first.exited;
    assert.ok(left.some(pidAlive) && labLeftovers().length > 0, 'the crash left processes and the lab behind');

    const second = startDev();
    const out2 = await ready(second);
    assert.match(out2, /ending what a previous make dev left running/);
    assert.deepEqual(left.filter(pidAlive), [], 'what the crashed run left has ended');
    assert.match(out2, /h1, h2 enrolled earlier/);
    assert.equal(printed(out2).fingerprint, printed(out1).fingerprint, 'jmp-ssh keeps its host key');
    const [whoami2, sudo2] = await tryTheLines(out2, join(tmp, 'known_hosts.2'));
    assert.match(whoami2!, /[\r\n]alice\r\n/);
    assert.match(sudo2!, /[\r\n]0\r\n/);

    // Ctrl-C.
    const running = recordedPids();
    second.proc.kill('SIGINT');
    assert.equal(await second.exited, 0, second.out());
    assert.deepEqual(running.filter(pidAlive), [], 'no service or Postgres process is left');
    assert.deepEqual(labLeftovers(), [], 'no namespace, link, overlay or lab dir is left');
    for (const port of [
      env.JMP_API_PORT!,
      env.JMP_SSH_PORT!,
      env.JMP_SOCKET_PORT!,
      env.JMP_SFTP_PORT!,
      env.JMP_RDP_PORT!,
      env.JMP_GUACD_PORT!,
    ])
      assert.equal(await listening(port), false, `port ${port} is closed`);
    assert.equal(existsSync(join(devDir, 'processes.json')), false);
  },
);
