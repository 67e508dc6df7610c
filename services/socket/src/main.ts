// jmp-socket entry point: reads configuration and wires the parts.
import { ApiClient } from '@jmp/contract';
import { createLogger, loadConfigOrExit } from '@jmp/runtime';
import { drainOnSignals, drainUsage, httpDrainable, type Drainable } from '@jmp/runtime/drain';
import { socketConfigSpec, SOCKET_DRAIN_SECONDS, type SocketConfig } from './config.js';
import { createSocketMetrics } from './metrics.js';
import { createSocketServer } from './server.js';
import { REASONS } from './terminal/terminal.js';

const USAGE = `usage: jmp-socket

The web terminal's backend: the browser's socket.io connection becomes an ssh
client of jmp-ssh, logged in with a one-time credential from jmp-api
(docs/web-terminal.md).

configuration (environment):
  JMP_API_URL              jmp-api base URL (http://127.0.0.1:8080)
  JMP_SERVICE_TOKEN        token from \`jmp-api service-token socket\` (required)
  JMP_SSH_HOST, JMP_SSH_PORT
                           jmp-ssh to connect to (127.0.0.1:2200)
  JMP_SSH_HOST_KEY         jmp-ssh's host key: fingerprint (SHA256:…) or public key line (required)
  JMP_SOCKET_LISTEN        listen address host:port (127.0.0.1:8081)
  JMP_SOCKET_ORIGINS       origins allowed to open terminals, comma-separated
                           (default: the page must come from the Host it connects to)
  JMP_WEB_DIR              serve the web console's static files from here (development)
  JMP_SOCKET_PROXY_API     pass /v1/* to jmp-api, so the console has one origin (development; false)
  JMP_LOG_LEVEL            log level (info)
${drainUsage(SOCKET_DRAIN_SECONDS, 25)}`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const config = loadConfigOrExit('jmp-socket', socketConfigSpec) as SocketConfig;
const log = createLogger('jmp-socket', config.logLevel);
const metrics = createSocketMetrics();
const api = new ApiClient({ baseUrl: config.apiUrl, authorization: () => `Bearer ${config.serviceToken}`, timeoutMs: 5000 });
const { http, io, terminals } = createSocketServer({ config, api, log, metrics });
http.listen(config.listen.port, config.listen.host, () => {
  const a = http.address();
  const port = a && typeof a === 'object' ? a.port : config.listen.port;
  log.info({ host: config.listen.host, port }, 'jmp-socket listening');
  // One plain line for scripts/dev.ts and the tests.
  process.stdout.write(`jmp-socket is listening on http://${config.listen.host}:${port}\n`);
});

// SIGTERM: the port closes (nginx sends new terminals elsewhere); open
// terminals go on until they end or the bound is reached, then each is told
// why before it is closed.
const base = httpDrainable(http);
const drainable: Drainable = {
  ...base,
  inFlight: () => terminals.size,
  forceClose: () => {
    for (const t of terminals) t.end(REASONS.stopping);
    setTimeout(() => base.forceClose(), 500).unref();
  },
  cleanup: async () => { io.close(); },
};
drainOnSignals(drainable, { log, graceMs: config.drainSeconds * 1000 }, (code) => {
  setTimeout(() => process.exit(code), 2000).unref();
  process.exitCode = code;
});
