// The processes of `make dev`: each service in its own process group (so a
// group kill also ends what it started, such as embedded Postgres), recorded
// in <devDir>/processes.json. A `make dev` killed with SIGKILL cannot stop
// them; the next one reads the file and ends what is left before it starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Rec {
  name: string;
  pid: number;
  start: string;
}
interface RunFile {
  dev: Rec;
  children: Rec[];
}

/** The start time of a live, non-zombie process (field 22 of /proc/PID/stat): guards against pid reuse. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}
const alive = (r: Rec): boolean => processStart(r.pid) === r.start;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* gone */
  }
}

async function waitGone(pred: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (!pred()) return true;
  return !pred();
}

/**
 * Embedded Postgres of this dev dir, if a postmaster still runs on it (its
 * parent was killed with SIGKILL): fast shutdown, then SIGKILL.
 */
async function stopStrayPostgres(devDir: string): Promise<void> {
  const pidFile = join(devDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 1) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes(join(devDir, 'pg'))) return; // the pid was reused by something else
  const start = processStart(pid);
  if (!start) return;
  const rec = { name: 'postgres', pid, start };
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  if (!(await waitGone(() => alive(rec), 10_000)))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
}

export class Supervisor {
  private readonly file: string;
  private readonly children: Array<{ rec: Rec; proc: ChildProcess }> = [];
  private readonly self: Rec;

  constructor(private readonly devDir: string) {
    this.file = join(devDir, 'processes.json');
    this.self = { name: 'dev', pid: process.pid, start: processStart(process.pid) ?? '' };
  }

  /**
   * Refuses when another `make dev` on this dev dir is alive; otherwise ends
   * what a crashed one left running and records this one.
   */
  async claim(say: (line: string) => void): Promise<void> {
    let prev: RunFile | null = null;
    try {
      prev = JSON.parse(readFileSync(this.file, 'utf8')) as RunFile;
    } catch {
      /* none or unreadable */
    }
    if (prev && prev.dev.pid !== process.pid && alive(prev.dev)) {
      throw new Error(
        `another make dev (pid ${prev.dev.pid}) is running on ${this.devDir}; stop it first (Ctrl-C there)`,
      );
    }
    const left = (prev?.children ?? []).filter(alive);
    if (left.length > 0) {
      say(
        `dev: ending what a previous make dev left running: ${left.map((r) => `${r.name} (pid ${r.pid})`).join(', ')}`,
      );
      for (const r of left) killGroup(r.pid, 'SIGTERM');
      if (!(await waitGone(() => left.some(alive), 10_000))) for (const r of left) killGroup(r.pid, 'SIGKILL');
      await waitGone(() => left.some(alive), 2_000);
    }
    await stopStrayPostgres(this.devDir);
    this.save();
  }

  /** Starts `node --import tsx <args>` in its own process group; stdout lines go to `onLine`. */
  start(
    name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    onLine: (line: string) => void,
    onExit: (code: number | null, sig: string | null) => void,
  ): ChildProcess {
    return this.startCommand(name, [process.execPath, '--import', 'tsx', ...args], env, onLine, onExit);
  }

  /** Starts `argv` (not a Node script: guacd) the same way. */
  startCommand(
    name: string,
    argv: string[],
    env: NodeJS.ProcessEnv,
    onLine: (line: string) => void,
    onExit: (code: number | null, sig: string | null) => void,
  ): ChildProcess {
    const proc = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    const rec: Rec = { name, pid: proc.pid!, start: processStart(proc.pid!) ?? '' };
    this.children.push({ rec, proc });
    this.save();
    let rest = '';
    proc.stdout!.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    });
    proc.on('exit', (code, sig) => onExit(code, sig));
    return proc;
  }

  /** The recorded children (for tests and messages). */
  pids(): number[] {
    return this.children.map((c) => c.rec.pid);
  }

  /** SIGTERM to every group (the services drain), SIGKILL after `graceMs`; then the record goes. */
  async stop(graceMs = 8_000): Promise<void> {
    const live = this.children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
    for (const c of live) killGroup(c.rec.pid, 'SIGTERM');
    const exited = (c: (typeof live)[number]) => c.proc.exitCode !== null || c.proc.signalCode !== null;
    if (!(await waitGone(() => live.some((c) => !exited(c)), graceMs)))
      for (const c of live) killGroup(c.rec.pid, 'SIGKILL');
    await stopStrayPostgres(this.devDir);
    rmSync(this.file, { force: true });
  }

  private save(): void {
    const data: RunFile = { dev: this.self, children: this.children.map((c) => c.rec) };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(data) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
