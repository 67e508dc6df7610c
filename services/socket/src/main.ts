// jmp-socket entry point: reads configuration and wires the parts.
import { serviceApiClient } from '@jmp/contract';
import { configHelp, createLogger, loadConfigOrExit } from '@jmp/runtime';
import { drainOnSignals, httpDrainable, type Drainable } from '@jmp/runtime/drain';
import { socketConfigSpec, socketConfigSpecs } from './config.js';
import { createSocketMetrics } from './metrics.js';
import { createSocketServer } from './server.js';
import { REASONS } from './terminal/terminal.js';

const USAGE = `usage: jmp-socket

The web terminal's backend: the browser's socket.io connection becomes an ssh
client of jmp-ssh, logged in with a one-time credential from jmp-api
(docs/web-terminal.md).

configuration (environment):
${configHelp(socketConfigSpecs)}`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const config = loadConfigOrExit('jmp-socket', socketConfigSpec);
const log = createLogger('jmp-socket', config.logLevel);
const metrics = createSocketMetrics();
const api = serviceApiClient(config);
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
  cleanup: async () => {
    await io.close();
  },
};
drainOnSignals(drainable, { log, graceMs: config.drainSeconds * 1000 }, (code) => {
  setTimeout(() => process.exit(code), 2000).unref();
  process.exitCode = code;
});
