// Helpers shared by the end-to-end suites (test/e2e/*.test.ts) and the lab
// benchmarks (test/bench/agent-decide, test/bench/target-login): enrolling lab
// hosts with the real `jmp-agent enroll`, agent configs, ssh2 logins, waits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { REPO_DIR, type LabHost, type LabHostInfo } from '../lab/lab.js';
import type { TestApi } from '../../services/api/test/harness.js';
import { sha256hex } from '../../services/api/src/crypto/secrets.js';

export const LAB_DIR = process.env.JMP_LAB_DIR ?? '/run/jmp-lab';


export async function until<T>(what: string, fn: () => T | Promise<T>, ms = 10_000, stepMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Mount points at or below `dir` in this (root) namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && (mp === dir || mp.startsWith(`${dir}/`))) out.push(mp.replace(/\\040/g, ' '));
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Unmounts what this file (or a crashed run of it) mounted below the lab dir; lab.sh down cannot rm a mount point. */
export function unmountLabMounts(): void {
  for (const mp of mountsUnder(LAB_DIR)) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
}

/** Runs the real jmp-agent CLI inside the host (cwd = the repo, so `--import tsx` resolves). */
export function agentCli(h: LabHost, args: string[]) {
  return h.exec(['sh', '-c', 'cd "$0" && exec node --import tsx agent/src/main.ts "$@"', REPO_DIR, ...args], { timeoutMs: 60_000 });
}

/** The agent's JSON log lines (pino) since `from` bytes. */
export function agentLog(h: LabHost, from = 0): Array<Record<string, unknown>> {
  let text = '';
  try {
    text = readFileSync(h.agentLog).subarray(from).toString('utf8');
  } catch {
    return [];
  }
  const out: Array<Record<string, unknown>> = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* partial line */
    }
  }
  return out;
}
export const logSize = (h: LabHost): number => (existsSync(h.agentLog) ? readFileSync(h.agentLog).length : 0);

export interface Ssh2Result {
  code: number | null;
  stdout: string;
  stderr: string;
  prompts: string[];
}

/** Logs in with the ssh2 client (keyboard-interactive, the ticket answers every prompt), pins the host key, runs `command`. */
export function ssh2Login(h: LabHost, user: string, ticket: string, command: string): Promise<Ssh2Result> {
  const pinned = Buffer.from(h.sshHostKey.split(' ')[1]!, 'base64');
  return new Promise((resolve, reject) => {
    const conn = new Client();
    const prompts: string[] = [];
    const timer = setTimeout(() => {
      conn.end();
      reject(new Error('ssh2 login timed out'));
    }, 20_000);
    conn.on('keyboard-interactive', (_name, _instr, _lang, ps, finish) => {
      for (const p of ps) prompts.push(p.prompt);
      finish(ps.map(() => ticket));
    });
    conn.on('ready', () => {
      conn.exec(command, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          conn.end();
          reject(err);
          return;
        }
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('exit', (c: number | null) => (code = c));
        stream.on('close', () => {
          clearTimeout(timer);
          conn.end();
          resolve({ code, stdout, stderr, prompts });
        });
      });
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.connect({
      host: h.address,
      port: 22,
      username: user,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      hostVerifier: (key: Buffer) => key.equals(pinned),
      readyTimeout: 15_000,
    });
  });
}

/**
 * Writes the host's agent config (its /etc/jmp/agent.conf, in the overlay):
 * the lab's NSS cache paths (what libnss_jmp reads) plus `extra` (merged one
 * level deep). Use in `prepare`, before the agent starts.
 */
export function writeAgentConf(h: LabHostInfo, extra: Record<string, Record<string, unknown>> = {}): void {
  const conf: Record<string, Record<string, unknown>> = { files: { passwd: join(h.stateDir, 'passwd'), group: join(h.stateDir, 'group') } };
  for (const [k, v] of Object.entries(extra)) conf[k] = { ...conf[k], ...v };
  writeFileSync(join(h.etcDir, 'jmp', 'agent.conf'), `# written by test/e2e/helpers.ts\n${JSON.stringify(conf, null, 2)}\n`);
}

/**
 * Enrols lab hosts into a service with one enrolment token (`jmp-agent enroll`
 * run inside each host: its host name, addresses and SSH host keys) and checks
 * what jmp-api registered. Returns the host ids by name. Restart the agents
 * afterwards (they were started unenrolled).
 */
export async function enrolLabHosts(api: TestApi, serviceId: number, hosts: LabHost[]): Promise<Record<string, number>> {
  const token = `jmpe_${randomBytes(32).toString('base64url')}`;
  await api.db('enrolment_tokens').insert({ token_hash: sha256hex(token), service_id: serviceId, max_uses: hosts.length, expires_at: new Date(Date.now() + 3600_000) });
  const results = await Promise.all(hosts.map((h) => agentCli(h, ['enroll', '--config', '/etc/jmp/agent.conf', '--api', api.url, '--token', token])));
  const ids: Record<string, number> = {};
  for (const [i, h] of hosts.entries()) {
    const r = results[i]!;
    assert.equal(r.code, 0, `jmp-agent enroll on ${h.name}: ${r.stderr}${r.stdout}`);
    const row: { id: number; addresses: string[]; ssh_host_keys: string[] } | undefined = await api.db('hosts').where({ hostname: h.name }).first();
    assert.ok(row, `host ${h.name} registered`);
    assert.deepEqual(row.addresses, [h.address]);
    assert.deepEqual(row.ssh_host_keys, [h.sshHostKey.split(' ').slice(0, 2).join(' ')]);
    assert.ok(existsSync(join(h.etcDir, 'jmp', 'agent.key')), `${h.name}: its agent key in its own /etc overlay`);
    ids[h.name] = row.id;
  }
  return ids;
}
