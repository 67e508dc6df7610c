// jmp-ssh entry point: reads configuration and wires the parts.
import type ssh2 from 'ssh2';
import { serviceApiClient } from '@jmp/contract';
import { configHelp, createLogger, loadConfigOrExit } from '@jmp/runtime';
import { drainConfigSpec, drainOnSignals, listenerDrainable, trackConnections } from '@jmp/runtime/drain';
import {
  SSH_DRAIN_SECONDS,
  sshConfigSpec,
  sshConfigSpecs,
  sshDeviceConfigSpec,
  sshProxyConfigSpec,
  type SshConfig,
} from './config.js';
import { loadOrCreateHostKey } from '@jmp/ssh-server/host-key';
import { createSshServer } from './server/server.js';
import { createSshListener, exitUnlessProxyTrusted } from '@jmp/ssh-server/listener';
import { createRecordings, recordingConfigSpec } from '@jmp/recording';
import { loadOrCreateDeviceKey, registerDeviceKeyInBackground } from './device/key.js';
import { deviceKeyCommand } from './device/rotate.js';
import { join } from 'node:path';
import {
  FileAudit,
  limitsOf,
  sftpProxyConfigSpec,
  stagingOf,
  stagingS3ConfigSpec,
  sweepStaging,
} from '@jmp/sftp-proxy';

const USAGE = `usage: jmp-ssh
       jmp-ssh device-key rotate   (a new device key; every device secret re-encrypted to it)

The SSH server people log in to (ssh -p 2200 alice@jmp).

configuration (environment):
${configHelp(sshConfigSpecs)}`;

if (process.argv[2] === 'device-key') process.exit(await deviceKeyCommand(process.argv.slice(3)));
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const config: SshConfig = {
  ...loadConfigOrExit('jmp-ssh', sshConfigSpec),
  ...loadConfigOrExit('jmp-ssh', sshDeviceConfigSpec),
  recording: loadConfigOrExit('jmp-ssh', recordingConfigSpec),
};
const { drainSeconds } = loadConfigOrExit('jmp-ssh', drainConfigSpec(SSH_DRAIN_SECONDS));
const proxy = loadConfigOrExit('jmp-ssh', sshProxyConfigSpec);
exitUnlessProxyTrusted('jmp-ssh', 'JMP_SSH', proxy);
const log = createLogger('jmp-ssh', config.logLevel);
const api = serviceApiClient(config);
const recordings = createRecordings(config.recording, {
  log,
  onNotice: (n) => log.warn({ session: n.sessionId, code: n.code }, n.message),
});
void recordings.recoverSpool();
// The device key opens network devices' secrets: made on first start like the host key, its public half registered.
registerDeviceKeyInBackground(api, loadOrCreateDeviceKey(config.deviceKeyPath!), log);
// The sftp subsystem: the same proxy, settings and audit as jmp-sftp, with its own spool.
const sftpConfig = loadConfigOrExit('jmp-ssh', sftpProxyConfigSpec);
const sftpAudit = new FileAudit({ api, log, spoolDir: join(sftpConfig.spoolDir, 'jmp-ssh') });
sftpAudit.recover();
// /~staging/: the same S3 area as jmp-sftp's (the recordings' endpoint and region).
const staging = stagingOf(sftpConfig, loadConfigOrExit('jmp-ssh', stagingS3ConfigSpec));
if (staging) sweepStaging(staging, log);
const server = createSshServer({
  config,
  api,
  log,
  hostKey: loadOrCreateHostKey(config.hostKeyPath),
  recordings,
  sftp: { audit: sftpAudit, limits: limitsOf(sftpConfig), staging },
});
const connections = trackConnections<ssh2.Connection>(server);
// jmp-ssh owns the listener (ssh2 gets each socket, after the PROXY header when on).
const listener = createSshListener(server, log, proxy);
listener.on('error', (err) => {
  log.error({ err: err.message }, 'jmp-ssh listener failed');
  process.exit(1);
});
listener.listen(config.port, config.host, () =>
  log.info({ host: config.host, port: config.port, proxyProtocol: proxy.proxyProtocol }, 'jmp-ssh listening'),
);
// SIGTERM drains: the port closes (the L4 balancer retries the refused
// connect on another instance); logins and sessions in progress go on until
// they end or the bound is reached. Session ends are reported and recordings
// closed by their own handlers, so the process then exits once idle.
drainOnSignals(listenerDrainable(listener, connections), { log, graceMs: drainSeconds * 1000 }, (code) => {
  setTimeout(() => process.exit(code), 5000).unref();
  process.exitCode = code;
});
