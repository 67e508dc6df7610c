// The jmp test lab for TypeScript tests: real Linux target hosts (network
// namespaces with their own sshd, sudo, PAM stack, NSS, agent) built by
// test/lab/lab.sh. See test/lab/README.md.
//
//   const lab = await startLab({ hosts: ['h1', 'h2'], agentCommand: responderCommand() });
//   after(() => lab.stop());
//   const h1 = lab.host('h1');
//   h1.writeNssCache({ passwd: [{ name: 'alice', uid: 200001 }], group: [...] });
//   await h1.ssh('alice', 'id -un', { ticket });
//
// Needs root, the installed modules (`make lab-install`) and the Debian
// packages of scripts/apt/lab.txt. One lab per machine at a time.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = resolve(HERE, '../..');
export const LAB_SH = join(HERE, 'lab.sh');
export const ASKPASS = join(HERE, 'askpass.sh');
export const RESPONDER = join(HERE, 'responder.mjs');
/** Namespace / link / overlay prefix: cleanup removes everything that starts with it. */
export const PREFIX = process.env.JMP_LAB_PREFIX ?? 'jmp-';

function labDir(): string {
  return process.env.JMP_LAB_DIR ?? '/run/jmp-lab';
}
function labNet(): string {
  return process.env.JMP_LAB_NET ?? '10.231.0';
}

/** Where a host lives, known before its daemons start (given to `agentCommand` and `prepare`). */
export interface LabHostInfo {
  name: string;
  /** 1-based; the address is <net>.(10 + index). */
  index: number;
  /** Network namespace name: `jmp-<name>`. */
  namespace: string;
  address: string;
  /** The host's directory in the root namespace (/run/jmp-lab/hosts/<name>). */
  dir: string;
  /** Mounted on /run/jmp inside the host (the agent socket lives here). */
  runDir: string;
  /** Mounted on /var/lib/jmp inside the host (NSS cache files `passwd`, `group`). */
  stateDir: string;
  /** Mounted on /home inside the host. */
  homeDir: string;
  /** Mounted on /tmp inside the host. */
  tmpDir: string;
  /** /etc overlay: /etc/netns/jmp-<name> (pam.d, nsswitch.conf, hosts, hostname, jmp, ssh, sudoers.d). */
  etcDir: string;
  /** sshd.log, agent.log, anchor.log. */
  logDir: string;
  /** The agent socket as the root namespace sees it (= /run/jmp/agent.sock inside the host). */
  socketPath: string;
}

export interface ExecOptions {
  /** Written to stdin, then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Added to the environment. */
  env?: Record<string, string>;
  /** Kill with SIGKILL after this many ms (default 30000). */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SshOptions extends ExecOptions {
  /** The answer to every keyboard-interactive prompt (`jmp ticket: `). */
  ticket: string;
  /** Extra `ssh` arguments before the destination (e.g. ['-o', 'LogLevel=DEBUG']). */
  sshArgs?: string[];
}

export interface SshResult extends ExecResult {
  /** The prompts sshd sent, in order (askpass saw them). */
  prompts: string[];
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid?: number; // default uid
  gecos?: string;
  home?: string; // default /home/<name>
  shell?: string; // default /bin/bash
}
export interface GroupEntry {
  name: string;
  gid: number;
  members?: string[];
}

export interface LabHost extends LabHostInfo {
  sshPort: 22;
  /** The host's ed25519 public key line: `ssh-ed25519 AAAA… root@<name>`. */
  sshHostKey: string;
  /** `<address>,<name> ssh-ed25519 AAAA…` */
  knownHostsLine: string;
  sshdLog: string;
  agentLog: string;
  /** Runs inside the host as root: nsenter into its mount, uts and net namespaces (a string runs through `sh -c`). */
  exec(cmd: string | string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs through `ip netns exec jmp-<name>` (the /etc overlay, but the root namespace's /home, /run, /var). */
  netnsExec(cmd: string | string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Logs in with the OpenSSH client as `user` (keyboard-interactive, answered by SSH_ASKPASS; no tty needed) and runs `command`. */
  ssh(user: string, command: string, opts: SshOptions): Promise<SshResult>;
  /** Replaces the NSS cache files atomically (root, 0644). Strings are written as they are. */
  writeNssCache(files: { passwd?: string | PasswdEntry[]; group?: string | GroupEntry[] }): void;
  /** Replaces `responder.json` in stateDir (read by responder.mjs on every request). */
  writeResponderRules(rules: ResponderRules): void;
  /** The responder's exchange log (runDir/responder.log), parsed. */
  responderLog(): ResponderLogEntry[];
  restartSshd(): Promise<void>;
  restartAgent(): Promise<void>;
  /** Live pids (root namespace view): the namespace holder, the sshd listener, the agent (null when none). */
  pids(): { anchor: number; sshd: number; agent: number | null };
}

export interface Lab {
  /** /run/jmp-lab */
  dir: string;
  /** The bridge address in the root namespace (what sshd sees as rhost). */
  bridgeAddress: string;
  /** known_hosts with every lab host's key (by address and by name). */
  knownHostsFile: string;
  hosts: LabHost[];
  host(name: string): LabHost;
  /** Wall time of startLab, including the cleanup of a previous run. */
  setupMs: number;
  /** Removes everything (namespaces, links, processes, overlays, files). Idempotent. */
  stop(): Promise<void>;
}

export interface LabOptions {
  hosts: string[];
  /**
   * argv of each host's agent, run as root inside the host (cwd: the repo,
   * env: this process's plus JMP_LAB_HOST). The lab waits until
   * /run/jmp/agent.sock exists in the host. `null` (or a function returning
   * null) = no agent. Undefined = lab.sh's default: the real jmp-agent
   * (agent/src/main.ts run --config /etc/jmp/agent.conf) once it exists.
   */
  agentCommand?: ((host: LabHostInfo) => string[] | null) | null;
  /** Called for each host after its files exist and before its daemons start (write agent.conf, caches, …). */
  prepare?: (host: LabHostInfo) => void | Promise<void>;
  /** sshd LogLevel DEBUG1 and pam_jmp `debug` (to the sshd log). */
  debug?: boolean;
  /** How long to wait for each agent socket (default 15000 ms). */
  agentWaitMs?: number;
  /**
   * Which build lab.sh's default agent runs (JMP_LAB_AGENT): `source` (tsx) or
   * `bundle` (dist/jmp-agent.mjs, as packaged). Undefined: the environment's.
   */
  agent?: 'source' | 'bundle';
}

export interface ResponderRules {
  /** auth: ticket → the user it is valid for. */
  tickets?: Record<string, string>;
  /** sudo: user → may become root. */
  sudo?: Record<string, boolean>;
  su?: Record<string, boolean>;
  /** account: user → false refuses (default allowed). */
  account?: Record<string, boolean>;
}
export interface ResponderLogEntry {
  op: string;
  fields: Record<string, string>;
  status: 'allow' | 'deny' | 'error' | 'pong';
  reason?: string;
}

/** agentCommand for the scripted responder (test/lab/responder.mjs): rules in stateDir/responder.json, log in runDir/responder.log. */
export function responderCommand(): (host: LabHostInfo) => string[] {
  return () => [
    process.execPath,
    RESPONDER,
    '--socket',
    '/run/jmp/agent.sock',
    '--rules',
    '/var/lib/jmp/responder.json',
    '--log',
    '/run/jmp/responder.log',
  ];
}

// ------------------------------------------------------------------ helpers

function run(cmd: string, args: string[], opts: ExecOptions & { cwd?: string } = {}): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? '/',
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
    if (opts.input !== undefined && child.stdin) child.stdin.end(opts.input);
  });
}

function labEnv(opts: Pick<LabOptions, 'debug' | 'agentWaitMs' | 'agent'>): Record<string, string> {
  const env: Record<string, string> = { JMP_LAB_OWNER_PID: String(process.pid) };
  if (opts.debug) env.JMP_LAB_DEBUG = '1';
  if (opts.agentWaitMs) env.JMP_LAB_AGENT_WAIT_MS = String(opts.agentWaitMs);
  if (opts.agent) env.JMP_LAB_AGENT = opts.agent;
  return env;
}

async function labSh(args: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await run(LAB_SH, args, { env, timeoutMs: 120000, cwd: REPO_DIR });
  if (r.code !== 0) throw new Error(`lab.sh ${args.join(' ')} failed (${r.code ?? r.signal}):\n${r.stderr}${r.stdout}`);
}

function labDownSync(): void {
  spawnSync(LAB_SH, ['down'], { stdio: 'ignore', cwd: REPO_DIR, timeout: 60000 });
}

function readInt(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** Alive and not a zombie (PID 1 on these machines may be slow to reap). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

function passwdText(v: string | PasswdEntry[]): string {
  if (typeof v === 'string') return v;
  return v
    .map(
      (e) =>
        `${e.name}:*:${e.uid}:${e.gid ?? e.uid}:${e.gecos ?? ''}:${e.home ?? `/home/${e.name}`}:${e.shell ?? '/bin/bash'}\n`,
    )
    .join('');
}
function groupText(v: string | GroupEntry[]): string {
  if (typeof v === 'string') return v;
  return v.map((e) => `${e.name}:*:${e.gid}:${(e.members ?? []).join(',')}\n`).join('');
}

/** Replaces a host's NSS cache files atomically (root, 0644); usable in `prepare`. */
export function writeNssCache(
  host: LabHostInfo,
  files: { passwd?: string | PasswdEntry[]; group?: string | GroupEntry[] },
): void {
  if (files.passwd !== undefined) writeAtomic(join(host.stateDir, 'passwd'), passwdText(files.passwd), 0o644);
  if (files.group !== undefined) writeAtomic(join(host.stateDir, 'group'), groupText(files.group), 0o644);
}

/** Replaces a host's responder.json (read by responder.mjs on every request); usable in `prepare`. */
export function writeResponderRules(host: LabHostInfo, rules: ResponderRules): void {
  writeAtomic(join(host.stateDir, 'responder.json'), JSON.stringify(rules), 0o600);
}

/** What a previous (possibly crashed) lab left behind; all empty after stop(). */
export function labLeftovers(): {
  namespaces: string[];
  links: string[];
  overlays: string[];
  processes: number[];
  stateDir: boolean;
} {
  const namespaces = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(PREFIX)) : [];
  const links = readdirSync('/sys/class/net').filter((n) => n.startsWith(PREFIX));
  const overlays = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith(PREFIX)) : [];
  const processes: number[] = [];
  for (const ns of namespaces) {
    const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    for (const p of (r.stdout ?? '').split(/\s+/)) if (p) processes.push(Number(p));
  }
  return { namespaces, links, overlays, processes, stateDir: existsSync(labDir()) };
}

// ------------------------------------------------------------------ the lab

let active: { stopSync: () => void } | null = null;

/**
 * Builds the hosts and starts their sshd and agent. Removes the leftovers of
 * a previous lab first, unless a live process owns it (then it throws).
 */
export async function startLab(opts: LabOptions): Promise<Lab> {
  const t0 = performance.now();
  if (process.getuid?.() !== 0) throw new Error('the lab needs root');
  if (opts.hosts.length === 0) throw new Error('startLab: no hosts');
  for (const n of opts.hosts) {
    if (!/^[a-z][a-z0-9-]{0,10}$/.test(n)) throw new Error(`startLab: bad host name ${n}`);
  }
  if (new Set(opts.hosts).size !== opts.hosts.length) throw new Error('startLab: duplicate host names');
  if (active) throw new Error('startLab: a lab is already running in this process; stop() it first');

  const dir = labDir();
  const owner = readInt(join(dir, 'owner'));
  if (owner !== null && owner !== process.pid && pidAlive(owner)) {
    throw new Error(`a jmp lab owned by live process ${owner} is running (test/lab/lab.sh down to remove it)`);
  }
  labDownSync(); // leftovers of a crashed run, or a CLI lab

  const env = labEnv(opts);
  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    labDownSync();
  };
  const onExit = (): void => stopSync();
  const onSignal = (sig: NodeJS.Signals): void => {
    stopSync();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.kill(process.pid, sig);
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  active = { stopSync };
  const release = (): void => {
    process.removeListener('exit', onExit);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    active = null;
  };

  try {
    await labSh(['prepare', ...opts.hosts], env);
    const infos = opts.hosts.map((name) => hostInfo(dir, name));
    for (const info of infos) {
      const argvFile = join(info.dir, 'agent.argv');
      if (opts.agentCommand === null) writeFileSync(argvFile, '');
      else if (opts.agentCommand) {
        const argv = opts.agentCommand(info);
        writeFileSync(argvFile, argv && argv.length ? argv.map((a) => `${a}\0`).join('') : '');
      } else rmSync(argvFile, { force: true });
      if (opts.prepare) await opts.prepare(info);
    }
    await labSh(['start', ...opts.hosts], env);
    const hosts = infos.map((info) => makeHost(info, dir, env));
    const setupMs = performance.now() - t0;
    return {
      dir,
      bridgeAddress: `${labNet()}.1`,
      knownHostsFile: join(dir, 'known_hosts'),
      hosts,
      host(name: string): LabHost {
        const h = hosts.find((x) => x.name === name);
        if (!h) throw new Error(`no lab host ${name}`);
        return h;
      },
      setupMs,
      async stop(): Promise<void> {
        if (!stopped) {
          stopped = true;
          await labSh(['down']);
        }
        release();
      },
    };
  } catch (err) {
    stopSync();
    release();
    throw err;
  }
}

function hostInfo(dir: string, name: string): LabHostInfo {
  const hd = join(dir, 'hosts', name);
  const index = readInt(join(hd, 'index'));
  if (index === null) throw new Error(`lab host ${name}: no index`);
  return {
    name,
    index,
    namespace: PREFIX + name,
    address: readFileSync(join(hd, 'address'), 'utf8').trim(),
    dir: hd,
    runDir: join(hd, 'run-jmp'),
    stateDir: join(hd, 'var-lib-jmp'),
    homeDir: join(hd, 'home'),
    tmpDir: join(hd, 'tmp'),
    etcDir: `/etc/netns/${PREFIX}${name}`,
    logDir: join(hd, 'log'),
    socketPath: join(hd, 'run-jmp', 'agent.sock'),
  };
}

let sshSeq = 0;

function makeHost(info: LabHostInfo, dir: string, env: Record<string, string>): LabHost {
  const sshHostKey = readFileSync(join(info.etcDir, 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8').trim();
  const keyNoComment = sshHostKey.split(' ').slice(0, 2).join(' ');
  const anchorPid = (): number => {
    const p = readInt(join(info.dir, 'anchor.pid'));
    if (p === null) throw new Error(`lab host ${info.name} is not up`);
    return p;
  };
  const argv = (cmd: string | string[]): string[] => (typeof cmd === 'string' ? ['sh', '-c', cmd] : cmd);
  return {
    ...info,
    sshPort: 22,
    sshHostKey,
    knownHostsLine: `${info.address},${info.name} ${keyNoComment}`,
    sshdLog: join(info.logDir, 'sshd.log'),
    agentLog: join(info.logDir, 'agent.log'),
    exec(cmd, opts = {}) {
      return run('nsenter', ['-t', String(anchorPid()), '-m', '-u', '-n', '--', ...argv(cmd)], opts);
    },
    netnsExec(cmd, opts = {}) {
      return run('ip', ['netns', 'exec', info.namespace, ...argv(cmd)], opts);
    },
    async ssh(user, command, opts) {
      const promptLog = join(dir, `askpass-${process.pid}-${++sshSeq}.log`);
      try {
        const r = await run(
          'ssh',
          [
            '-F',
            '/dev/null',
            '-T',
            '-o',
            `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
            '-o',
            'GlobalKnownHostsFile=/dev/null',
            '-o',
            'StrictHostKeyChecking=yes',
            '-o',
            'PreferredAuthentications=keyboard-interactive',
            '-o',
            'KbdInteractiveAuthentication=yes',
            '-o',
            'PubkeyAuthentication=no',
            '-o',
            'PasswordAuthentication=no',
            '-o',
            'NumberOfPasswordPrompts=1',
            '-o',
            'ConnectTimeout=10',
            '-o',
            'ControlMaster=no',
            '-o',
            'ControlPath=none',
            '-p',
            '22',
            ...(opts.sshArgs ?? []),
            '-l',
            user,
            info.address,
            command,
          ],
          {
            ...opts,
            env: {
              ...opts.env,
              SSH_ASKPASS: ASKPASS,
              SSH_ASKPASS_REQUIRE: 'force',
              JMP_LAB_TICKET: opts.ticket,
              JMP_LAB_ASKPASS_LOG: promptLog,
            },
          },
        );
        let prompts: string[] = [];
        try {
          // OpenSSH prefixes keyboard-interactive prompts with "(user@host) ".
          prompts = readFileSync(promptLog, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => l.replace(/^\([^)]*@[^)]*\) /, ''));
        } catch {
          /* no prompt */
        }
        return { ...r, prompts };
      } finally {
        rmSync(promptLog, { force: true });
      }
    },
    writeNssCache(files) {
      writeNssCache(info, files);
    },
    writeResponderRules(rules) {
      writeResponderRules(info, rules);
    },
    responderLog() {
      try {
        return readFileSync(join(info.runDir, 'responder.log'), 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as ResponderLogEntry);
      } catch {
        return [];
      }
    },
    async restartSshd() {
      await labSh(['restart-sshd', info.name], env);
    },
    async restartAgent() {
      await labSh(['restart-agent', info.name], env);
    },
    pids() {
      const sshd = readInt(join(info.dir, 'sshd.pid'));
      if (sshd === null) throw new Error(`lab host ${info.name}: no sshd`);
      return { anchor: anchorPid(), sshd, agent: readInt(join(info.dir, 'agent.pid')) };
    },
  };
}
