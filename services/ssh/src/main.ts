// jmp-ssh entry point: reads configuration and wires the parts.
import { ApiClient, createLogger, loadConfigOrExit } from '@jmp/common';
import { sshConfigSpec, type SshConfig } from './config.js';
import { loadOrCreateHostKey } from './server/host-key.js';
import { createSshServer } from './server/server.js';
import { createRecordings, recordingConfigSpec, RECORDING_USAGE } from './recording/index.js';

const USAGE = `usage: jmp-ssh

The SSH server people log in to (ssh -p 2200 alice@jmp).

configuration (environment):
  JMP_API_URL                      jmp-api base URL (http://127.0.0.1:8080)
  JMP_SERVICE_TOKEN                token from \`jmp-api service-token ssh\` (required)
  JMP_SSH_HOST, JMP_SSH_PORT       listen address (0.0.0.0:2200)
  JMP_SSH_HOST_KEY                 host key file, created on first start (/var/lib/jmp/ssh_host_ed25519_key)
  JMP_SSH_IDLE_TIMEOUT_SECONDS     idle sessions are closed after this (1800)
  JMP_SSH_MAX_SESSIONS_PER_USER    open sessions per person (10)
  JMP_SSH_MAX_CONNECTIONS          connections per process (2000)
  JMP_SSH_TARGET_PORT              sshd port on targets (22)
  JMP_LOG_LEVEL                    log level (info)

recordings:
${RECORDING_USAGE}`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const config = { ...loadConfigOrExit('jmp-ssh', sshConfigSpec), recording: loadConfigOrExit('jmp-ssh', recordingConfigSpec) } as SshConfig;
const log = createLogger('jmp-ssh', config.logLevel);
const api = new ApiClient({ baseUrl: config.apiUrl, authorization: () => `Bearer ${config.serviceToken}`, timeoutMs: 5000 });
const recordings = createRecordings(config.recording, { log, onNotice: (n) => log.warn({ session: n.sessionId, code: n.code }, n.message) });
void recordings.recoverSpool();
const server = createSshServer({ config, api, log, hostKey: loadOrCreateHostKey(config.hostKeyPath), recordings });
server.listen(config.port, config.host, () => log.info({ host: config.host, port: config.port }, 'jmp-ssh listening'));
const stop = () => { server.close(); setTimeout(() => process.exit(0), 2000).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
