// The demo target hosts of `make dev` (root only): h1 and h2 as lab hosts
// (test/lab: network namespaces, real sshd, sudo, pam_jmp, libnss_jmp, the
// jmp-agent bundle as packaged), enrolled by the real `jmp-agent enroll` with
// the demo enrolment token: the seed pre-registers h1 and h2 and binds the
// token to them, so enrolment claims them. Each host's identity (SSH host key,
// agent key, state.json) is kept in <devDir>/lab-hosts/<name>/, so the next
// `make dev` brings the same hosts back without enrolling again (jmp keeps
// registered host keys; another key needs an administrator's act).
import './lab-env.js';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, type Lab, type LabHost, type LabHostInfo } from '../../test/lab/lab.js';
import { enrolWithToken } from '../../test/lab/agent-cli.js';
import { until } from '../../test/lib/until.js';

export const DEMO_HOSTS = ['h1', 'h2'];

/** [file in the identity dir, where it lives in the host, mode]. */
const IDENTITY: Array<[string, (h: LabHostInfo) => string, number]> = [
  ['ssh_host_ed25519_key', (h) => join(h.etcDir, 'ssh', 'ssh_host_ed25519_key'), 0o600],
  ['ssh_host_ed25519_key.pub', (h) => join(h.etcDir, 'ssh', 'ssh_host_ed25519_key.pub'), 0o644],
  ['agent.key', (h) => join(h.etcDir, 'jmp', 'agent.key'), 0o600],
  ['state.json', (h) => join(h.stateDir, 'state.json'), 0o644],
];
const identityDir = (devDir: string, name: string) => join(devDir, 'lab-hosts', name);
const hasAll = (dir: string, files: string[]) => files.every((f) => existsSync(join(dir, f)));
const HOST_KEY = ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub'];
const AGENT_ID = ['agent.key', 'state.json'];

function copy(from: string, to: string, mode: number): void {
  copyFileSync(from, to);
  chmodSync(to, mode);
}

/** Puts a kept identity back into a host before its daemons start. */
function restoreIdentity(devDir: string, h: LabHostInfo): void {
  const dir = identityDir(devDir, h.name);
  for (const group of [HOST_KEY, AGENT_ID]) {
    if (!hasAll(dir, group)) continue;
    for (const [file, at, mode] of IDENTITY) if (group.includes(file)) copy(join(dir, file), at(h), mode);
  }
}

function saveIdentity(devDir: string, h: LabHostInfo): void {
  const dir = identityDir(devDir, h.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [file, at] of IDENTITY) copy(at(h), join(dir, file), 0o600);
}

/** The agent's config: the lab's NSS cache paths, this jmp-api, a quick policy pull (changes show within seconds). */
function writeAgentConf(h: LabHostInfo, apiUrl: string): void {
  const conf = {
    api: { url: apiUrl },
    files: { passwd: join(h.stateDir, 'passwd'), group: join(h.stateDir, 'group') },
    policy: { intervalMs: 5000, jitterMs: 1000 },
  };
  writeFileSync(
    join(h.etcDir, 'jmp', 'agent.conf'),
    `# jmp make dev (scripts/dev/targets.ts)\n${JSON.stringify(conf, null, 2)}\n`,
  );
}

/** Builds h1 and h2 (removing what a crashed run left), each host's agent running; `apiUrl` is where jmp-api will listen. */
export function startTargets(devDir: string, apiUrl: string): Promise<Lab> {
  return startLab({
    hosts: DEMO_HOSTS,
    agent: 'bundle',
    prepare: (h) => {
      restoreIdentity(devDir, h);
      writeAgentConf(h, apiUrl);
    },
  });
}

interface AdminHost {
  id: number;
  hostname: string;
  addresses: string[];
  serviceId: number | null;
  sshHostKeys: string[];
  enrolled: boolean;
  enrolmentTokenId: number | null;
}

function adminApi(apiUrl: string, token: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`jmp-api ${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

export interface AdmitOptions {
  devDir: string;
  apiUrl: string;
  /** The admin service token (`jmp-api service-token admin`). */
  adminToken: string;
  /** The demo enrolment token printed by the seed (null when unknown). */
  demoToken: string | null;
  say: (line: string) => void;
}

/**
 * Makes jmp-api know the hosts as they are: a host enrolled before with its
 * kept identity is left as it is; the others enrol with `jmp-agent enroll`
 * (the demo token for the pre-registered hosts; when that cannot work, the
 * administrator's way: a new token bound by reset-enrolment, the host's
 * current key registered). Then the agents restart and pull policy.
 */
export async function admitTargets(lab: Lab, o: AdmitOptions): Promise<void> {
  const call = adminApi(o.apiUrl, o.adminToken);
  const byToken = new Map<string, LabHost[]>();
  const back: string[] = [];
  for (const h of lab.hosts) {
    const key = h.sshHostKey.split(' ').slice(0, 2).join(' ');
    const list = await call<{ items: AdminHost[] }>('GET', `/v1/hosts?q=${encodeURIComponent(h.name)}`);
    const row = list.items.find((r) => r.hostname === h.name);
    if (row?.enrolled && row.addresses.join(' ') !== h.address) {
      // another JMP_LAB_NET than last time
      await call('PATCH', `/v1/hosts/${row.id}`, { addresses: [h.address] });
    }
    if (row?.enrolled && hasAll(identityDir(o.devDir, h.name), AGENT_ID) && row.sshHostKeys.includes(key)) {
      back.push(h.name);
      continue;
    }
    rmSync(join(h.stateDir, 'state.json'), { force: true }); // enrols afresh
    const demoFits =
      o.demoToken &&
      row &&
      !row.enrolled &&
      row.enrolmentTokenId !== null &&
      (row.sshHostKeys.length === 0 || row.sshHostKeys.includes(key));
    let token: string;
    if (demoFits || (!row && o.demoToken)) token = o.demoToken!;
    else if (row) {
      const created = await call<{ id: number; token: string }>('POST', '/v1/enrolment-tokens', {
        description: `make dev: enrol ${h.name} again`,
        serviceId: row.serviceId,
        maxUses: 1,
        ttlSeconds: 600,
      });
      await call('POST', `/v1/hosts/${row.id}/reset-enrolment`, { enrolmentTokenId: created.id });
      await call('PATCH', `/v1/hosts/${row.id}`, { sshHostKeys: [key] });
      o.say(`dev: ${h.name} was enrolled before with another identity: reset its enrolment, bound a new token`);
      token = created.token;
    } else {
      throw new Error(`${h.name} is not registered and the demo enrolment token is unknown (no demo-credentials.txt)`);
    }
    byToken.set(token, [...(byToken.get(token) ?? []), h]);
  }
  for (const [token, hosts] of byToken) {
    await enrolWithToken(hosts, o.apiUrl, token, 'bundle');
    for (const h of hosts) saveIdentity(o.devDir, h);
    o.say(
      `dev: enrolled ${hosts.map((h) => h.name).join(', ')} with \`jmp-agent enroll\` (${token === o.demoToken ? 'the demo enrolment token' : 'a new token'})`,
    );
  }
  if (back.length > 0)
    o.say(`dev: ${back.join(', ')} enrolled earlier (identity kept in ${join(o.devDir, 'lab-hosts')})`);
  // The agents started before jmp-api listened (and, for new ones, unenrolled).
  await Promise.all(
    lab.hosts.map(async (h) => {
      rmSync(join(h.stateDir, 'passwd'), { force: true });
      await h.restartAgent();
      await until(
        `${h.name}'s agent to write its NSS cache (log: ${h.agentLog})`,
        () => existsSync(join(h.stateDir, 'passwd')),
        30_000,
      );
    }),
  );
}
