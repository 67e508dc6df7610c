// A `fetch` for the ApiClient over node:http/https with two things global
// fetch cannot do: a DNS fallback (when the API host name does not resolve,
// connect to configured fixed addresses while the URL — and so the Host
// header, TLS SNI and certificate check — keeps the name), and a cap on the
// response size (a garbage-spewing API is "down", not an out-of-memory).
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { ApiFetch, ApiFetchInit, ApiFetchResponse } from '@jmp/contract';

export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;
type BaseLookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/**
 * A lookup() for net.connect: the system resolver first; when it fails and
 * fallback addresses are configured, those addresses (filtered by the
 * requested family). `onFallback` is told each time the fallback is used.
 */
export function fallbackLookup(
  addresses: readonly string[],
  onFallback: (hostname: string, err: NodeJS.ErrnoException) => void = () => {},
  base: BaseLookup = dns.lookup as unknown as BaseLookup,
): LookupFunction {
  const lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    base(hostname, options, (err, address, family) => {
      if (!err || addresses.length === 0) return callback(err, address, family);
      const list = addresses
        .map((a) => ({ address: a, family: isIP(a) }))
        .filter((a) => !options.family || options.family === a.family);
      if (list.length === 0) return callback(err, address, family);
      onFallback(hostname, err);
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
  return lookup as unknown as LookupFunction;
}

export interface HttpFetchOptions {
  fallbackAddresses?: readonly string[];
  /** Extra CA certificates (PEM) for https. */
  ca?: string | Buffer;
  maxResponseBytes?: number;
  onFallback?: (hostname: string, err: NodeJS.ErrnoException) => void;
  /** For tests: the resolver behind the fallback. */
  baseLookup?: BaseLookup;
}

export interface HttpFetch {
  fetch: ApiFetch;
  close(): void;
}

/** A plain response object: no undici Response/Headers (they would load undici, ~10 MB per agent). */
function plainResponse(status: number, headers: http.IncomingHttpHeaders, body: Buffer): ApiFetchResponse {
  return {
    status,
    headers: {
      get(name: string): string | null {
        const v = headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    text: () => Promise.resolve(body.toString('utf8')),
  };
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export function createHttpFetch(opts: HttpFetchOptions = {}): HttpFetch {
  const lookup = fallbackLookup(opts.fallbackAddresses ?? [], opts.onFallback, opts.baseLookup);
  const max = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  // Idle keep-alive sockets are dropped after 4 s, before a Node server's 5 s keepAliveTimeout closes them under us.
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4000 });
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 64,
    timeout: 4000,
    ...(opts.ca ? { ca: opts.ca } : {}),
  });

  function once(
    url: URL,
    init: ApiFetchInit,
    body: Buffer | undefined,
  ): Promise<{ res: ApiFetchResponse; reused: boolean } | { err: Error; reused: boolean }> {
    return new Promise((resolve) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(init.headers)) headers[k.toLowerCase()] = v;
      if (body) headers['content-length'] = String(body.length);
      const mod = url.protocol === 'https:' ? https : http;
      let settled = false;
      const req = mod.request(
        url,
        {
          method: init.method,
          headers,
          agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
          lookup,
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > max) {
              res.destroy(new Error(`response larger than ${max} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('error', (err) => {
            if (!settled) {
              settled = true;
              resolve({ err, reused: false });
            }
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 599) {
              resolve({ err: new Error(`unexpected HTTP status ${status}`), reused: false });
              return;
            }
            resolve({
              res: plainResponse(status, res.headers, NULL_BODY.has(status) ? Buffer.alloc(0) : Buffer.concat(chunks)),
              reused: false,
            });
          });
        },
      );
      req.on('error', (err) => {
        if (!settled) {
          settled = true;
          resolve({ err, reused: req.reusedSocket });
        }
      });
      req.end(body);
    });
  }

  const doFetch: ApiFetch = async (input, init) => {
    const url = new URL(input);
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    let r = await once(url, init, body);
    // A kept-alive socket the server closed just as we reused it: retry once on a fresh one (the request never reached the server).
    if ('err' in r && r.reused && (r.err as NodeJS.ErrnoException).code === 'ECONNRESET')
      r = await once(url, init, body);
    if ('err' in r) throw r.err;
    return r.res;
  };
  return {
    fetch: doFetch,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
