// The jump shell's menu: rendering, filtering, command parsing and tab
// completion. Pure: plain values in, strings out.
import type { MyHost } from '@jmp/contract/schemas/access';

export type Command =
  | { kind: 'connect'; host: MyHost; command?: string }
  | { kind: 'filter'; text: string; matches: MyHost[] }
  | { kind: 'list' }
  | { kind: 'help' }
  | { kind: 'exit' }
  | { kind: 'error'; message: string };

const NL = '\r\n';
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function renderHosts(all: readonly MyHost[], shown: readonly MyHost[] = all): string {
  if (all.length === 0) return `You have no hosts yet. Ask for access in the jmp web console.${NL}`;
  const wName = Math.max(4, ...shown.map((h) => h.hostname.length));
  const wAddr = Math.max(7, ...shown.map((h) => (h.addresses[0] ?? '').length));
  const lines = [`  ${pad('#', 4)}${pad('host', wName + 2)}${pad('address', wAddr + 2)}${pad('state', 9)}service`];
  for (const h of shown) {
    const n = all.indexOf(h) + 1;
    const svc = [h.project, h.service].filter(Boolean).join('/') || '-';
    lines.push(
      `  ${pad(String(n), 4)}${pad(h.hostname, wName + 2)}${pad(h.addresses[0] ?? '-', wAddr + 2)}${pad(h.state, 9)}${svc}${h.root ? '  (root)' : ''}`,
    );
  }
  return lines.join(NL) + NL;
}

export const HELP =
  [
    'jmp jump shell',
    '  <number> | <host>      connect to that host',
    '  ssh <host> [command]   connect (and run one command)',
    '  <text>                 show the hosts whose name, address or service contain <text>',
    '  <Enter>                show all hosts again',
    '  Tab                    complete a host name',
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
