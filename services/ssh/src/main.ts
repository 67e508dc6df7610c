// jmp-ssh entry point: reads configuration and wires the parts.
import type ssh2 from 'ssh2';
import { ApiClient } from '@jmp/contract';
import { createLogger, loadConfigOrExit } from '@jmp/runtime';
import { drainConfigSpec, drainOnSignals, drainUsage, listenerDrainable, trackConnections } from '@jmp/runtime/drain';
import { sshConfigSpec, sshProxyConfigSpec, type SshConfig } from './config.js';
import { loadOrCreateHostKey } from './server/host-key.js';
import { createSshServer } from './server/server.js';
import { createSshListener } from './server/listener.js';
import { createRecordings, recordingConfigSpec, RECORDING_USAGE } from '@jmp/recording';

/**
 * People's sessions last hours; a restart waits this long for them to end
 * before closing them (systemd's TimeoutStopSec is above it).
 */
const SSH_DRAIN_SECONDS = 300;

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
  JMP_SSH_GUARD_FAIL_OPEN          when a host's command rules cannot be loaded, let sessions in unchecked
                                   (lines stored as skipped) instead of refusing them (false)
  JMP_SSH_PROXY_PROTOCOL           on: every connection starts with a PROXY protocol header (v1 or v2) from
                                   the L4 balancer (nginx \`proxy_protocol on;\`), whose client address is
                                   the one logged and recorded (off)
  JMP_SSH_PROXY_TRUSTED            balancers allowed to send it, comma-separated addresses or CIDRs; when on,
                                   other peers are refused, and a trusted peer without a valid header is
                                   closed (required when on)
  JMP_LOG_LEVEL                    log level (info)
${drainUsage(SSH_DRAIN_SECONDS, 33)}
recordings:
${RECORDING_USAGE}`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const config = { ...loadConfigOrExit('jmp-ssh', sshConfigSpec), recording: loadConfigOrExit('jmp-ssh', recordingConfigSpec) } as SshConfig;
const { drainSeconds } = loadConfigOrExit('jmp-ssh', drainConfigSpec(SSH_DRAIN_SECONDS));
const proxy = loadConfigOrExit('jmp-ssh', sshProxyConfigSpec);
if (proxy.proxyProtocol && proxy.proxyTrusted.length === 0) {
  process.stderr.write('jmp-ssh: configuration error: JMP_SSH_PROXY_TRUSTED: is required when JMP_SSH_PROXY_PROTOCOL is on\n');
  process.exit(1);
}
const log = createLogger('jmp-ssh', config.logLevel);
const api = new ApiClient({ baseUrl: config.apiUrl, authorization: () => `Bearer ${config.serviceToken}`, timeoutMs: 5000 });
const recordings = createRecordings(config.recording, { log, onNotice: (n) => log.warn({ session: n.sessionId, code: n.code }, n.message) });
void recordings.recoverSpool();
const server = createSshServer({ config, api, log, hostKey: loadOrCreateHostKey(config.hostKeyPath), recordings });
const connections = trackConnections<ssh2.Connection>(server);
// jmp-ssh owns the listener (ssh2 gets each socket, after the PROXY header when on).
const listener = createSshListener(server, log, proxy);
listener.on('error', (err) => { log.error({ err: err.message }, 'jmp-ssh listener failed'); process.exit(1); });
listener.listen(config.port, config.host, () => log.info({ host: config.host, port: config.port, proxyProtocol: proxy.proxyProtocol }, 'jmp-ssh listening'));
// SIGTERM drains: the port closes (the L4 balancer retries the refused
// connect on another instance); logins and sessions in progress go on until
// they end or the bound is reached. Session ends are reported and recordings
// closed by their own handlers, so the process then exits once idle.
drainOnSignals(listenerDrainable(listener, connections), { log, graceMs: drainSeconds * 1000 }, (code) => {
  setTimeout(() => process.exit(code), 5000).unref();
  process.exitCode = code;
});
