// jmp-socket's own metrics beside the shared HTTP histogram and process metrics.
import { createMetrics, prom, type Metrics } from '@jmp/runtime';

export interface SocketMetrics extends Metrics {
  terminals: prom.Gauge;
  pausedTerminals: prom.Gauge;
  unackedBytes: prom.Gauge;
  outputBytes: prom.Counter;
  handshakesRefused: prom.Counter<'reason'>;
  terminalsEnded: prom.Counter<'reason'>;
}

export function createSocketMetrics(): SocketMetrics {
  const m = createMetrics('jmp-socket');
  const registers = [m.registry];
  return {
    ...m,
    terminals: new prom.Gauge({ name: 'jmp_socket_terminals', help: 'open web terminals', registers }),
    pausedTerminals: new prom.Gauge({
      name: 'jmp_socket_terminals_paused',
      help: 'terminals whose ssh channel is paused because the page has not acknowledged enough output',
      registers,
    }),
    unackedBytes: new prom.Gauge({
      name: 'jmp_socket_unacked_bytes',
      help: 'output sent to pages and not yet acknowledged, all terminals',
      registers,
    }),
    outputBytes: new prom.Counter({
      name: 'jmp_socket_output_bytes_total',
      help: 'terminal output bytes sent to pages',
      registers,
    }),
    handshakesRefused: new prom.Counter({
      name: 'jmp_socket_handshakes_refused_total',
      help: 'refused socket.io handshakes by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    terminalsEnded: new prom.Counter({
      name: 'jmp_socket_terminals_ended_total',
      help: 'ended terminals by who ended them',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
}
