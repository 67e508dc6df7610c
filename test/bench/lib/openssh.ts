// The OpenSSH client as the ssh benches run it: no user config, one key, only
// the given known_hosts, no prompts.
export function opensshArgs(keyFile: string, knownHosts: string): string[] {
  return [
    'ssh',
    '-F',
    '/dev/null',
    '-i',
    keyFile,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
  ];
}
