// A target host made from a directory tree: the cached bookworm root under
// an overlay (the cache stays clean), its own network namespace on a bridge,
// private /proc, /run, /tmp and hostname, commands run with chroot inside.
// test/lab builds its hosts from this machine's own root; here the root is
// the package's target system, so this small variant stands alone.
//   JMP_LAB_PREFIX (jpk-), JMP_LAB_NET (10.233.0), JMP_LAB_DIR (/run/jmp-pkg-lab)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = process.env.JMP_LAB_PREFIX ?? 'jpk-';
const NET = process.env.JMP_LAB_NET ?? '10.233.0';
const DIR = process.env.JMP_LAB_DIR ?? '/run/jmp-pkg-lab';
if (!/^[a-z][a-z0-9]{0,3}-$/.test(PREFIX))
  throw new Error(`JMP_LAB_PREFIX must be 2-5 chars ending in '-' (got '${PREFIX}')`);
if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(NET)) throw new Error(`JMP_LAB_NET must be three octets (got '${NET}')`);

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sh(cmd: string[], input?: string): RunResult {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', input, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(cmd: string[]): string {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface ChrootHost {
  name: string;
  /** The host's / as seen from here (the overlay's merged dir). */
  root: string;
  address: string;
  bridgeAddress: string;
  /** Runs a shell command inside the host (its namespaces, chrooted, clean environment). */
  run(script: string, opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Like run, throwing on a non-zero exit. */
  must(script: string): Promise<string>;
  /** Starts a long-running command inside the host (output appended to `log` inside the root). */
  startDaemon(script: string, log: string): void;
  stop(): void;
}

/** Removes what a previous (crashed) run of this prefix left behind. */
export function cleanupLeftovers(name: string): void {
  const ns = `${PREFIX}${name}`;
  if (existsSync(`/run/netns/${ns}`)) {
    for (const pid of sh(['ip', 'netns', 'pids', ns]).stdout.split('\n').filter(Boolean)) sh(['kill', '-KILL', pid]);
    sh(['ip', 'netns', 'del', ns]);
  }
  sh(['ip', 'link', 'del', `${PREFIX}${name}v`]);
  const merged = join(DIR, name, 'merged');
  for (let i = 0; i < 5 && readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${merged} `); i++)
    sh(['umount', '-l', merged]);
  rmSync(join(DIR, name), { recursive: true, force: true });
  try {
    rmdirSync(DIR);
  } catch {
    /* other hosts still there, or already gone */
  }
}

export async function startChrootHost(name: string, lowerRoot: string, index = 11): Promise<ChrootHost> {
  cleanupLeftovers(name);
  const ns = `${PREFIX}${name}`;
  const bridge = `${PREFIX}br0`;
  const veth = `${PREFIX}${name}v`;
  const address = `${NET}.${index}`;
  const bridgeAddress = `${NET}.1`;
  const hd = join(DIR, name);
  const merged = join(hd, 'merged');
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(hd, d), { recursive: true });
  must([
    'mount',
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${lowerRoot},upperdir=${hd}/upper,workdir=${hd}/work`,
    merged,
  ]);
  writeFileSync(join(hd, 'owner'), `${process.pid}\n`);

  if (sh(['ip', 'link', 'show', bridge]).code !== 0) {
    must(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    must(['ip', 'addr', 'add', `${bridgeAddress}/24`, 'dev', bridge]);
    must(['ip', 'link', 'set', bridge, 'up']);
  }
  must(['ip', 'netns', 'add', ns]);
  must(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  must(['ip', 'link', 'set', veth, 'master', bridge, 'up']);
  must(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  writeFileSync(join(merged, 'etc/hostname'), `${name}\n`);
  writeFileSync(join(merged, 'etc/hosts'), `127.0.0.1 localhost\n127.0.1.1 ${name}\n${bridgeAddress} jmp-api\n`);

  // The anchor holds the private mount and uts namespaces; everything else nsenters it.
  const pidFile = join(hd, 'anchor.pid');
  const anchor = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'unshare',
      '--mount',
      '--uts',
      '--propagation',
      'private',
      'sh',
      '-c',
      `
    set -e
    hostname "$1"
    mount -t proc proc "$2/proc"
    mount --rbind /dev "$2/dev"
    mount -t tmpfs -o mode=0755 tmpfs "$2/run"
    mount -t tmpfs -o mode=1777 tmpfs "$2/tmp"
    echo $$ > "$3"
    exec sleep infinity`,
      'anchor',
      name,
      merged,
      pidFile,
    ],
    { stdio: 'ignore', detached: true },
  );
  anchor.unref();
  let anchorPid = 0;
  for (let i = 0; i < 500 && !anchorPid; i++) {
    if (existsSync(pidFile)) anchorPid = Number(readFileSync(pidFile, 'utf8').trim());
    else await new Promise((r) => setTimeout(r, 10));
  }
  if (!anchorPid) throw new Error(`${name}: the namespace holder did not start`);

  const enter = (script: string): string[] => [
    'nsenter',
    '-t',
    String(anchorPid),
    '-m',
    '-u',
    '-n',
    '--',
    'chroot',
    merged,
    '/usr/bin/env',
    '-i',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'LANG=C.UTF-8',
    'HOME=/root',
    'DEBIAN_FRONTEND=noninteractive',
    '/bin/sh',
    '-c',
    script,
  ];

  const run = (script: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> =>
    new Promise((resolve) => {
      const [cmd, ...args] = enter(script);
      const c = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      c.stdin.end(opts.input ?? '');
    });

  return {
    name,
    root: merged,
    address,
    bridgeAddress,
    run,
    async must(script) {
      const r = await run(script);
      if (r.code !== 0) throw new Error(`${name}: \`${script}\` exited ${r.code}\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    startDaemon(script, log) {
      const [cmd, ...args] = enter(`exec >>${log} 2>&1 </dev/null; ${script}`);
      spawn(cmd!, args, { stdio: 'ignore', detached: true }).unref();
    },
    stop() {
      cleanupLeftovers(name);
      // The bridge is ours alone (prefix); remove it once no host uses it.
      if (!sh(['ip', '-o', 'link', 'show', 'master', bridge]).stdout.trim()) sh(['ip', 'link', 'del', bridge]);
    },
  };
}
