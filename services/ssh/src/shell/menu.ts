// The jump shell's menu: rendering, filtering, command parsing and tab
// completion. Pure: plain values in, strings out.
import { agentLiveness, environmentLabel, type MyHost } from '@jmp/contract/schemas/access';
import type { MyDevice } from '@jmp/contract/schemas/devices';

export type Command =
  | { kind: 'connect'; host: MyHost; command?: string }
  | { kind: 'filter'; text: string; matches: MyHost[] }
  | { kind: 'list' }
  | { kind: 'help' }
  | { kind: 'info'; host: MyHost }
  | { kind: 'exit' }
  | { kind: 'device'; name: string; account?: string }
  | { kind: 'devices' }
  | { kind: 'database'; host: MyHost; db: 'mariadb' | 'redis' }
  | { kind: 'databases' }
  | { kind: 'error'; message: string };

const NL = '\r\n';
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function renderHosts(all: readonly MyHost[], shown: readonly MyHost[] = all, now = Date.now()): string {
  if (all.length === 0) return `You have no hosts yet. Ask for access in the jmp web console.${NL}`;
  const wName = Math.max(4, ...shown.map((h) => h.hostname.length));
  const wAddr = Math.max(7, ...shown.map((h) => (h.addresses[0] ?? '').length));
  // The environment (production or not) and the agent's liveness are two columns: one never stands for the other.
  const agents = shown.map((h) => agentLiveness(h.agent, now));
  const wAgent = Math.max(5, ...agents.map((a) => a.word.length));
  const lines = [
    `  ${pad('#', 4)}${pad('host', wName + 2)}${pad('address', wAddr + 2)}${pad('environment', 16)}${pad('agent', wAgent + 2)}service`,
  ];
  shown.forEach((h, i) => {
    const n = all.indexOf(h) + 1;
    const svc = [h.project, h.service].filter(Boolean).join('/') || '-';
    lines.push(
      `  ${pad(String(n), 4)}${pad(h.hostname, wName + 2)}${pad(h.addresses[0] ?? '-', wAddr + 2)}${pad(environmentLabel(h.state), 16)}${pad(agents[i]!.word, wAgent + 2)}${svc}${h.root ? '  (root)' : ''}`,
    );
  });
  return lines.join(NL) + NL;
}

/** `info <host>`: one line each for the environment, the agent and the person's access. */
export function describeHost(h: MyHost, now = Date.now()): string {
  return (
    [
      `${h.hostname}  ${h.addresses.join(', ') || '-'}  ${[h.project, h.service].filter(Boolean).join('/') || '-'}`,
      `  environment  ${environmentLabel(h.state)}`,
      `  agent        ${agentLiveness(h.agent, now).text.replace(/^agent /, '')}`,
      `  access       ${h.root ? 'login + root' : 'login'}${h.reason ? ` (${h.reason})` : ''}`,
    ].join(NL) + NL
  );
}

export const HELP =
  [
    'jmp jump shell',
    '  <number> | <host>      connect to that host',
    '  ssh <host> [command]   connect (and run one command)',
    '  <text>                 show the hosts whose name, address or service contain <text>',
    '  <Enter>                show all hosts again',
    '  Tab                    complete a host name',
    '  info <host>            environment, agent (last seen, version, fail mode) and your access',
    '  devices                the network devices you may open',
    '  device <name> [as <account>]  open a network device (switch, router, firewall)',
    '  databases              the databases (MariaDB, Redis) you may open, with your level: rows d1, d2, …',
    '  d<number>              open that database row',
    '  mysql <host>           a MariaDB/MySQL terminal on that host, as yourself (also: mariadb)',
    '  redis <host>           a Redis terminal on that host, as yourself',
    '  help                   this text',
    '  exit                   leave jmp',
  ].join(NL) + NL;

export function findHost(hosts: readonly MyHost[], name: string): MyHost | undefined {
  const n = name.toLowerCase();
  return hosts.find((h) => h.hostname.toLowerCase() === n);
}

export function parseCommand(input: string, hosts: readonly MyHost[]): Command {
  const line = input.trim();
  if (line === '') return { kind: 'list' };
  if (['exit', 'quit', 'logout', 'q'].includes(line)) return { kind: 'exit' };
  if (line === 'help' || line === '?') return { kind: 'help' };
  const ssh = /^ssh\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (ssh) {
    const target = ssh[1]!.replace(/^[^@]*@/, '');
    const host = findHost(hosts, target) ?? (/^\d+$/.test(target) ? hosts[Number(target) - 1] : undefined);
    if (!host) return { kind: 'error', message: `no host named ${target} among yours` };
    return ssh[2]?.trim() ? { kind: 'connect', host, command: ssh[2].trim() } : { kind: 'connect', host };
  }
  if (line === 'ssh') return { kind: 'error', message: 'usage: ssh <host> [command]' };
  if (line === 'devices') return { kind: 'devices' };
  if (line === 'databases') return { kind: 'databases' };
  const row = /^d(\d+)$/.exec(line);
  if (row) {
    const all = databaseTargets(hosts);
    const t = all[Number(row[1]) - 1];
    return t
      ? { kind: 'database', host: t.host, db: t.kind }
      : { kind: 'error', message: `no database row ${line}; "databases" lists ${all.length}` };
  }
  const db = /^(mysql|mariadb|redis|redis-cli)(?:\s+(\S+))?$/.exec(line);
  if (db) {
    const kind = db[1]!.startsWith('redis') ? 'redis' : 'mariadb';
    if (!db[2]) return { kind: 'error', message: `usage: ${db[1]} <host>` };
    const host = findHost(hosts, db[2]) ?? (/^\d+$/.test(db[2]) ? hosts[Number(db[2]) - 1] : undefined);
    return host
      ? { kind: 'database', host, db: kind }
      : { kind: 'error', message: `no host named ${db[2]} among yours` };
  }
  const dev = /^(?:device|telnet)(?:\s+(\S+)(?:\s+as\s+(\S+))?)?$/.exec(line);
  if (dev) {
    if (!dev[1]) return { kind: 'error', message: 'usage: device <name> [as <account>]' };
    return dev[2]
      ? { kind: 'device', name: dev[1].toLowerCase(), account: dev[2] }
      : { kind: 'device', name: dev[1].toLowerCase() };
  }
  const info = /^info(?:\s+(\S+))?$/.exec(line);
  if (info) {
    if (!info[1]) return { kind: 'error', message: 'usage: info <host>' };
    const host = findHost(hosts, info[1]) ?? (/^\d+$/.test(info[1]) ? hosts[Number(info[1]) - 1] : undefined);
    return host ? { kind: 'info', host } : { kind: 'error', message: `no host named ${info[1]} among yours` };
  }
  if (/^\d+$/.test(line)) {
    const host = hosts[Number(line) - 1];
    return host
      ? { kind: 'connect', host }
      : { kind: 'error', message: `no host number ${line}; the list has ${hosts.length}` };
  }
  const exact = findHost(hosts, line);
  if (exact) return { kind: 'connect', host: exact };
  const t = line.toLowerCase();
  const matches = hosts.filter(
    (h) =>
      h.hostname.toLowerCase().includes(t) ||
      h.addresses.some((a) => a.includes(t)) ||
      `${h.project ?? ''}/${h.service ?? ''}`.toLowerCase().includes(t),
  );
  return { kind: 'filter', text: line, matches };
}

/** Tab completion of the last word: the longest common prefix, and the candidates when ambiguous. */
export function complete(line: string, hosts: readonly MyHost[]): { line: string; candidates: string[] } {
  const m = /^(ssh\s+(?:\S*@)?)?(\S*)$/.exec(line);
  if (!m) return { line, candidates: [] };
  const [, lead = '', word = ''] = m;
  const names = hosts.map((h) => h.hostname).filter((n) => n.startsWith(word));
  if (names.length === 0) return { line, candidates: [] };
  let prefix = names[0]!;
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const done = names.length === 1 ? `${prefix} ` : prefix;
  return { line: lead + done, candidates: names.length > 1 ? names : [] };
}

/** `databases`: one row per database target (host and kind) the person may open, with her level. */
export function renderDatabases(hosts: readonly MyHost[]): string {
  const rows = databaseTargets(hosts);
  if (rows.length === 0) return `You have no database rights. Ask for access in the jmp web console.${NL}`;
  const w = Math.max(4, ...rows.map((r) => r.host.hostname.length));
  const lines = [
    `  ${pad('#', 5)}${pad('host', w + 2)}${pad('database', 10)}${pad('level', 7)}${pad('environment', 16)}open with`,
  ];
  rows.forEach((r, i) =>
    lines.push(
      `  ${pad(`d${i + 1}`, 5)}${pad(r.host.hostname, w + 2)}${pad(r.kind, 10)}${pad(r.level, 7)}${pad(environmentLabel(r.host.state), 16)}d${i + 1} or ${r.kind === 'mariadb' ? 'mysql' : 'redis'} ${r.host.hostname}`,
    ),
  );
  return lines.join(NL) + NL;
}

/** The database targets in menu order (host order, then kind): row dN of `databases` is the N-th. */
export function databaseTargets(
  hosts: readonly MyHost[],
): Array<{ host: MyHost; kind: 'mariadb' | 'redis'; level: string }> {
  return hosts.flatMap((host) => (host.databases ?? []).map((d) => ({ host, kind: d.kind, level: d.level })));
}

/** `devices`: the network devices the person may open. */
export function renderDevices(devices: readonly MyDevice[]): string {
  if (devices.length === 0) return `You have no network devices. Ask for access in the jmp web console.${NL}`;
  const w = Math.max(6, ...devices.map((d) => d.name.length));
  const lines = [`  ${pad('device', w + 2)}${pad('protocol', 10)}${pad('environment', 16)}service`];
  for (const d of devices)
    lines.push(`  ${pad(d.name, w + 2)}${pad(d.protocol, 10)}${pad(environmentLabel(d.state), 16)}${d.service ?? '-'}`);
  return lines.join(NL) + NL + `Open one with: device <name>${NL}`;
}
