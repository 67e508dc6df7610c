// jmp-rdp entry point: reads configuration and wires the parts.
import { serviceApiClient } from '@jmp/contract';
import { configHelp, createLogger, loadConfigOrExit } from '@jmp/runtime';
import { drainOnSignals, httpDrainable, type Drainable } from '@jmp/runtime/drain';
import { createRecordings, recordingConfigSpec } from '@jmp/recording';
import { rdpConfigSpec, rdpConfigSpecs } from './config.js';
import { prepareRecordingDir, storeRecording } from './desktop/recording.js';
import { createRdpServer } from './server.js';

const USAGE = `usage: jmp-rdp

Remote desktops in the browser: the console's WebSocket, checked with jmp-api
before it is upgraded, handed to guacd through guacamole-lite (docs/desktops.md).

configuration (environment):
${configHelp(rdpConfigSpecs)}`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const config = loadConfigOrExit('jmp-rdp', rdpConfigSpec);
const log = createLogger('jmp-rdp', config.logLevel);
const api = serviceApiClient(config);
const recording = loadConfigOrExit('jmp-rdp', recordingConfigSpec);
try {
  await prepareRecordingDir(config.recordingDir);
} catch (err) {
  process.stderr.write(
    `jmp-rdp: cannot prepare JMP_RDP_RECORDING_DIR ${config.recordingDir}: ${(err as Error).message}\n`,
  );
  process.exit(1);
}
const { store } = createRecordings(recording, { log });
const { http, lite, desktops } = createRdpServer({
  config,
  api,
  log,
  onEnded: (s) =>
    storeRecording(
      { store, dir: config.recordingDir, partBytes: recording.partBytes, maxBytes: recording.maxBytes, log },
      s.id,
      s.startedAt,
    ),
});
http.listen(config.listen.port, config.listen.host, () => {
  const a = http.address();
  const port = a && typeof a === 'object' ? a.port : config.listen.port;
  log.info({ host: config.listen.host, port, guacd: config.guacd }, 'jmp-rdp listening');
  process.stdout.write(`jmp-rdp is listening on http://${config.listen.host}:${port}\n`);
});

// SIGTERM: the port closes (nginx sends new desktops elsewhere); open desktops
// go on until they end or the bound is reached, then each is told why.
const base = httpDrainable(http);
const drainable: Drainable = {
  ...base,
  inFlight: () => desktops.size,
  forceClose: () => {
    for (const d of desktops.all()) d.end('stopping', 'jmp-rdp is restarting; open the desktop again');
    lite.closeAll();
    setTimeout(() => base.forceClose(), 500).unref();
  },
  cleanup: async () => {
    desktops.stopHeartbeat();
  },
};
drainOnSignals(drainable, { log, graceMs: config.drainSeconds * 1000 }, (code) => {
  setTimeout(() => process.exit(code), 2000).unref();
  process.exitCode = code;
});
