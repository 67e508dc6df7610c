// jmp-sftp entry point: reads configuration and wires the parts.
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { serviceApiClient } from '@jmp/contract';
import { configHelp, createLogger, loadConfigOrExit } from '@jmp/runtime';
import { drainConfigSpec, drainOnSignals, listenerDrainable, trackConnections } from '@jmp/runtime/drain';
import { loadOrCreateHostKey } from '@jmp/ssh-server/host-key';
import { createSshListener, exitUnlessProxyTrusted } from '@jmp/ssh-server/listener';
import {
  FileAudit,
  limitsOf,
  sftpProxyConfigSpec,
  stagingOf,
  stagingS3ConfigSpec,
  sweepStaging,
} from '@jmp/sftp-proxy';
import { SFTP_DRAIN_SECONDS, sftpConfigSpec, sftpConfigSpecs } from './config.js';
import { createSftpServer } from './server.js';

const USAGE = `usage: jmp-sftp

SFTP for any client (sftp -P 2222 alice@jmp, scp -P 2222 f alice@jmp:/web-01/tmp/):
/ lists your hosts, /<host>/… is that host's file system as you.

configuration (environment):
${configHelp(sftpConfigSpecs)}`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const config = loadConfigOrExit('jmp-sftp', sftpConfigSpec);
const proxy = loadConfigOrExit('jmp-sftp', sftpProxyConfigSpec);
const { drainSeconds } = loadConfigOrExit('jmp-sftp', drainConfigSpec(SFTP_DRAIN_SECONDS));
exitUnlessProxyTrusted('jmp-sftp', 'JMP_SFTP', config);
const log = createLogger('jmp-sftp', config.logLevel);
const api = serviceApiClient(config);
const audit = new FileAudit({ api, log, spoolDir: join(proxy.spoolDir, 'jmp-sftp') });
audit.recover();
const staging = stagingOf(proxy, loadConfigOrExit('jmp-sftp', stagingS3ConfigSpec));
if (staging) sweepStaging(staging, log);
const server = createSftpServer({
  api,
  log,
  hostKey: loadOrCreateHostKey(config.hostKeyPath),
  audit,
  limits: limitsOf(proxy),
  targetPort: config.targetPort,
  maxConnections: config.maxConnections,
  staging,
});
const connections = trackConnections<ssh2.Connection>(server);
const listener = createSshListener(server, log, {
  proxyProtocol: config.proxyProtocol,
  proxyTrusted: config.proxyTrusted,
});
listener.on('error', (err) => {
  log.error({ err: err.message }, 'jmp-sftp listener failed');
  process.exit(1);
});
listener.listen(config.port, config.host, () =>
  log.info({ host: config.host, port: config.port, proxyProtocol: config.proxyProtocol }, 'jmp-sftp listening'),
);
drainOnSignals(
  listenerDrainable(listener, connections, () => audit.close()),
  { log, graceMs: drainSeconds * 1000 },
  (code) => {
    setTimeout(() => process.exit(code), 5000).unref();
    process.exitCode = code;
  },
);
