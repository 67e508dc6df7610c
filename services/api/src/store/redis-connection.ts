// REDIS_URL → ioredis connection options. Besides redis:// and rediss://, a
// Sentinel deployment (jmp does not replicate by itself: it uses Redis's):
//   redis+sentinel://[:password@]host:26379,host2:26379/<master-name>[?db=0&wait=1]
// ioredis asks the sentinels for the current primary and asks again on every
// reconnect, so a failover is followed without a restart.
// `wait` (default 1 with sentinels, 0 otherwise): a single-use mark (a spent
// ticket's jti, a used TOTP code) counts only once that many replicas have it
// (Redis WAIT), so a failover to a replica cannot forget it; fewer acks within
// WAIT_TIMEOUT_MS fail the call, and the caller denies.
import type { RedisOptions } from 'ioredis';

export const WAIT_TIMEOUT_MS = 500;

export interface RedisConnection {
  /** A plain URL for ioredis, or null with sentinels. */
  url: string | null;
  options: RedisOptions;
  /** Replicas that must hold a single-use mark before it counts. */
  waitReplicas: number;
}

const SENTINEL = /^redis\+sentinel:\/\//;

/** True when the URL is one createStore understands. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//.test(url) || SENTINEL.test(url);
}

function intParam(u: URL, name: string, fallback: number, max: number): number {
  const v = u.searchParams.get(name);
  if (v === null) return fallback;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new Error(`REDIS_URL: ${name} must be an integer from 0 to ${max}`);
  return Number(v);
}

export function parseRedisUrl(url: string): RedisConnection {
  if (!SENTINEL.test(url)) {
    if (!isRedisUrl(url)) throw new Error('REDIS_URL must be redis://, rediss:// or redis+sentinel://');
    let waitReplicas = 0;
    try {
      waitReplicas = intParam(new URL(url), 'wait', 0, 16);
    } catch (err) {
      throw err instanceof Error && err.message.startsWith('REDIS_URL')
        ? err
        : new Error('REDIS_URL is not a valid URL');
    }
    return { url, options: {}, waitReplicas };
  }
  // The host part holds a list (h1:p1,h2:p2), which WHATWG URL refuses: split it off first.
  const m = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?#]+)\/([^/?#]+)(\?[^#]*)?$/.exec(url);
  if (!m) throw new Error('REDIS_URL: expected redis+sentinel://[:password@]host:port[,host:port…]/<master-name>');
  const [, auth, hosts, name, query] = m;
  const sentinels = hosts!.split(',').map((hp) => {
    const hm = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(hp);
    if (!hm) throw new Error(`REDIS_URL: bad sentinel address ${JSON.stringify(hp)}`);
    return { host: hm[1]!.replace(/^\[|\]$/g, ''), port: hm[2] ? Number(hm[2]) : 26379 };
  });
  const params = new URL(`redis://x/${query ?? ''}`);
  const password = auth ? decodeURIComponent(auth.includes(':') ? auth.slice(auth.indexOf(':') + 1) : auth) : undefined;
  return {
    url: null,
    options: {
      sentinels,
      name: decodeURIComponent(name!),
      db: intParam(params, 'db', 0, 15),
      ...(password ? { password, sentinelPassword: password } : {}),
      // A failover is noticed from the sentinels' +switch-master, not only when the old primary goes away.
      failoverDetector: true,
      sentinelRetryStrategy: (times: number) => Math.min(times * 200, 2000),
    },
    waitReplicas: intParam(params, 'wait', 1, 16),
  };
}

/** A write refused by a demoted primary: reconnect (to the new one) rather than keep failing. */
export function reconnectOnReadOnly(err: Error): boolean {
  return err.message.startsWith('READONLY');
}
