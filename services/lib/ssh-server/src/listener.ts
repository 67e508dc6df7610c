// The SSH services' TCP listener (jmp-ssh, jmp-sftp). It owns the accepted sockets and hands each to the
// ssh2 server (injectSocket); with the PROXY protocol on, only after the
// balancer's header named the real client, whose address then stands in for
// the balancer's wherever ssh2 and the service reads the socket's remote address
// (connection info, logins, session records). ssh2's maxConnections counts
// the sockets handed in and refuses those above it; each refusal is logged here.
import net from 'node:net';
import type ssh2 from 'ssh2';
import type { Logger } from '@jmp/runtime';
import { readProxyHeader, trustedPeers, type ProxyHeader } from '@jmp/runtime/proxy-protocol';

export interface ListenerOptions {
  /** Expect a PROXY protocol header (v1 or v2) on every connection. */
  proxyProtocol: boolean;
  /** Balancers allowed to send it; any other peer is refused while proxyProtocol is on. */
  proxyTrusted: readonly string[];
  /** A trusted peer that has not sent a complete header by then is closed. */
  headerTimeoutMs?: number;
}

export const PROXY_HEADER_TIMEOUT_MS = 5000;

/** At start-up: the PROXY protocol without a trusted balancer is a configuration error (`JMP_<PREFIX>_PROXY_*`). */
export function exitUnlessProxyTrusted(service: string, envPrefix: string, opts: ListenerOptions): void {
  if (!opts.proxyProtocol || opts.proxyTrusted.length > 0) return;
  process.stderr.write(
    `${service}: configuration error: ${envPrefix}_PROXY_TRUSTED: is required when ${envPrefix}_PROXY_PROTOCOL is on\n`,
  );
  process.exit(1);
}

export function createSshListener(server: ssh2.Server, log: Logger, opts: ListenerOptions): net.Server {
  if (!opts.proxyProtocol) return net.createServer((socket) => handOver(server, socket, log));
  if (opts.proxyTrusted.length === 0) throw new Error('the PROXY protocol is on but no balancer address is trusted');
  const trusted = trustedPeers(opts.proxyTrusted);
  const timeoutMs = opts.headerTimeoutMs ?? PROXY_HEADER_TIMEOUT_MS;
  return net.createServer((socket) => {
    const peer = socket.remoteAddress;
    if (!trusted(peer)) {
      // A header from anyone else would let them claim any address; plain SSH
      // from them would bypass the balancer. Neither is accepted.
      log.warn({ peer }, 'connection refused: not from a trusted balancer (the PROXY_TRUSTED setting)');
      socket.destroy();
      return;
    }
    readProxyHeader(socket, { timeoutMs }).then(
      (header) => {
        if (socket.destroyed) return;
        setRemote(socket, header);
        handOver(server, socket, log);
      },
      (err: Error) => {
        log.warn({ peer, err: err.message }, 'connection refused: no valid PROXY protocol header from the balancer');
        socket.destroy();
      },
    );
  });
}

/** Hands a socket to ssh2, which destroys it at once, silently, when it is over maxConnections: logged here. */
function handOver(server: ssh2.Server, socket: net.Socket, log: Logger): void {
  const source = socket.remoteAddress; // gone once the socket is destroyed
  server.injectSocket(socket);
  if (socket.destroyed) {
    log.warn({ source, limit: server.maxConnections }, 'connection refused: too many connections');
  }
}

/** The client named by the header becomes the socket's remote end; `local` keeps the balancer's own. */
function setRemote(socket: net.Socket, header: ProxyHeader): void {
  if (header.command !== 'proxy') return;
  Object.defineProperty(socket, 'remoteAddress', { value: header.sourceAddress, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: header.sourcePort, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: header.family, configurable: true });
}
