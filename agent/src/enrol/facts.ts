// What a host tells jmp-api about itself at enrolment: name, addresses and
// SSH host public keys.
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { contract } from '@jmp/contract';

/** Non-loopback, non-link-local addresses of every interface, IPv4 first. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && /^fe80:/i.test(a.address)) continue;
      out.push(a.address);
    }
  }
  return out.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':'))).slice(0, 64);
}

export function localHostname(): string {
  return hostname().split('.')[0]!.toLowerCase();
}

/** The OpenSSH public key lines in `paths`; missing files are skipped, bad ones reported. */
export function readSshHostKeys(paths: readonly string[]): { keys: string[]; problems: string[] } {
  const keys: string[] = [];
  const problems: string[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${p}: ${(err as Error).message}`);
      continue;
    }
    const line = text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('#'));
    if (!line || !contract.SshPublicKey.safeParse(line).success) {
      problems.push(`${p}: not an OpenSSH public key line`);
      continue;
    }
    keys.push(line);
  }
  return { keys: keys.slice(0, 16), problems };
}
