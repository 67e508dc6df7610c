// The real jmp-agent CLI run inside a lab host, and enrolment with it: shared
// by the end-to-end suites (test/e2e/helpers.ts) and `make dev`
// (scripts/dev/targets.ts), so both enrol hosts the same way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR, type ExecResult, type LabHost } from './lab.js';

/** `source`: agent/src/main.ts through tsx; `bundle`: dist/jmp-agent.mjs with agent/node-flags, as the packages run it. */
export type AgentBuild = 'source' | 'bundle';

/** The argv of the jmp-agent CLI (run with cwd = the repo). */
export function agentArgv(build: AgentBuild = 'source'): string[] {
  if (build === 'source') return ['node', '--import', 'tsx', 'agent/src/main.ts'];
  const flags = readFileSync(join(REPO_DIR, 'agent', 'node-flags'), 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  return ['node', ...flags, join(REPO_DIR, 'dist', 'jmp-agent.mjs')];
}

/** Runs the real jmp-agent CLI inside the host (cwd = the repo, so `--import tsx` resolves). */
export function agentCli(h: LabHost, args: string[], build: AgentBuild = 'source'): Promise<ExecResult> {
  return h.exec(['sh', '-c', 'cd "$0" && exec "$@"', REPO_DIR, ...agentArgv(build), ...args], { timeoutMs: 60_000 });
}

/**
 * `jmp-agent enroll` in every host at once with one enrolment token (the
 * agent registers its host name, addresses and SSH host keys). Throws with
 * each failing host's output.
 */
export async function enrolWithToken(
  hosts: LabHost[],
  apiUrl: string,
  token: string,
  build: AgentBuild = 'source',
): Promise<void> {
  const results = await Promise.all(
    hosts.map((h) =>
      agentCli(h, ['enroll', '--config', '/etc/jmp/agent.conf', '--api', apiUrl, '--token', token], build),
    ),
  );
  const failed = hosts.flatMap((h, i) => {
    const r = results[i]!;
    return r.code === 0
      ? []
      : [`jmp-agent enroll on ${h.name} exited with ${r.code ?? r.signal}: ${(r.stderr + r.stdout).trim()}`];
  });
  if (failed.length > 0) throw new Error(failed.join('\n'));
}
