// `make dev`: jmp-api on embedded defaults, then jmp-ssh and jmp-socket
// pointed at it, and how to connect. Ctrl-C stops them all.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ssh2 from 'ssh2';
import { loadOrCreateHostKey } from '../services/ssh/src/server/host-key.js';
import { fingerprintOf } from '../services/socket/src/ssh/host-key-pin.js';

const devDir = resolve(process.env.JMP_DEV_DIR ?? '.dev');
const apiPort = process.env.JMP_API_PORT ?? '8080';
const sshPort = process.env.JMP_SSH_PORT ?? '2200';
const socketPort = process.env.JMP_SOCKET_PORT ?? '8081';
const children: ChildProcess[] = [];
const stopAll = () => { for (const c of children) c.kill('SIGTERM'); };
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

function start(name: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let rest = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) { if (!l.startsWith('{')) process.stdout.write(l + '\n'); onLine?.(l); }
  });
  child.on('exit', (code) => { if (code) process.stderr.write(`dev: ${name} exited with ${code}\n`); stopAll(); });
  return child;
}

start('jmp-api', ['services/api/src/main.ts', 'dev'], { JMP_API_PORT: apiPort, JMP_DEV_DIR: devDir, JMP_LOG_LEVEL: process.env.JMP_LOG_LEVEL ?? 'warn' }, (line) => {
  if (!line.startsWith('jmp-api is listening')) return;
  const secret = readFileSync(resolve(devDir, 'secret.key'), 'utf8').trim();
  const serviceToken = (role: string) => spawnSync(process.execPath, ['--import', 'tsx', 'services/api/src/main.ts', 'service-token', role], { env: { ...process.env, JMP_SECRET_KEY: secret }, encoding: 'utf8' }).stdout.trim();
  const token = serviceToken('ssh');
  // Made here, before jmp-ssh starts, so jmp-socket can pin its fingerprint.
  const hostKeyPath = resolve(devDir, 'ssh_host_ed25519_key');
  const hostKey = ssh2.utils.parseKey(loadOrCreateHostKey(hostKeyPath));
  if (hostKey instanceof Error) throw hostKey;
  start('jmp-ssh', ['services/ssh/src/main.ts'], {
    JMP_API_URL: `http://127.0.0.1:${apiPort}`, JMP_SERVICE_TOKEN: token, JMP_SSH_HOST: '127.0.0.1', JMP_SSH_PORT: sshPort,
    JMP_SSH_HOST_KEY: hostKeyPath, JMP_RECORDING_DIR: resolve(devDir, 'recordings'), JMP_RECORDING_SPOOL_DIR: resolve(devDir, 'recordings-spool'), JMP_LOG_LEVEL: process.env.JMP_LOG_LEVEL ?? 'warn',
  });
  // The console (services/web/dist, or a page saying how to build it) and /v1 on one origin.
  start('jmp-socket', ['services/socket/src/main.ts'], {
    JMP_API_URL: `http://127.0.0.1:${apiPort}`, JMP_SERVICE_TOKEN: serviceToken('socket'), JMP_SSH_HOST: '127.0.0.1', JMP_SSH_PORT: sshPort,
    JMP_SSH_HOST_KEY: fingerprintOf(hostKey.getPublicSSH()), JMP_SOCKET_LISTEN: `127.0.0.1:${socketPort}`,
    JMP_WEB_DIR: resolve('services/web/dist'), JMP_SOCKET_PROXY_API: 'true', JMP_LOG_LEVEL: process.env.JMP_LOG_LEVEL ?? 'warn',
  });
  process.stdout.write(`\njmp-ssh is listening on 127.0.0.1:${sshPort}\n  connect:   ssh -p ${sshPort} ada@127.0.0.1   (passwords above, or ${devDir}/demo-credentials.txt)\n  web:       http://127.0.0.1:${socketPort}/   (console and web terminal)\n\nCtrl-C stops everything.\n`);
});
