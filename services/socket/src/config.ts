import { z } from 'zod';
import { bool, logLevel, port, url } from '@jmp/runtime';
import { drainConfigSpec } from '@jmp/runtime/drain';
import { parseHostKeyPin, type HostKeyPin } from './ssh/host-key-pin.js';

/**
 * A restart waits this long for open terminals, then ends each with a reason;
 * the page can open a new one at once. Below the unit's TimeoutStopSec (30 s).
 */
export const SOCKET_DRAIN_SECONDS = 20;

const listen = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8081')
  .default('127.0.0.1:8081')
  .transform((v) => { const i = v.lastIndexOf(':'); return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) }; })
  .refine((v) => v.port <= 65535, 'port must be at most 65535');

const hostKeyPin = z.string().transform((v, ctx): HostKeyPin => {
  const pin = parseHostKeyPin(v);
  if (typeof pin === 'string') { ctx.addIssue({ code: 'custom', message: pin }); return z.NEVER; }
  return pin;
});

const origins = z.string().transform((v, ctx): string[] => {
  const out: string[] = [];
  for (const raw of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    let u: URL;
    try { u = new URL(raw); } catch { ctx.addIssue({ code: 'custom', message: `${raw} is not an origin like https://jmp.example.com` }); return z.NEVER; }
    if (!/^https?:$/.test(u.protocol) || u.origin !== raw.replace(/\/$/, '')) { ctx.addIssue({ code: 'custom', message: `${raw} is not an origin like https://jmp.example.com (scheme, host, port; no path)` }); return z.NEVER; }
    out.push(u.origin);
  }
  return out;
}).optional();

export const socketConfigSpec = {
  apiUrl: ['JMP_API_URL', url().default('http://127.0.0.1:8080')],
  serviceToken: ['JMP_SERVICE_TOKEN', z.string().min(20, 'must be the token printed by `jmp-api service-token socket`')],
  sshHost: ['JMP_SSH_HOST', z.string().min(1).default('127.0.0.1')],
  sshPort: ['JMP_SSH_PORT', port(2200)],
  sshHostKey: ['JMP_SSH_HOST_KEY', hostKeyPin],
  listen: ['JMP_SOCKET_LISTEN', listen],
  webDir: ['JMP_WEB_DIR', z.string().optional()],
  origins: ['JMP_SOCKET_ORIGINS', origins],
  proxyApi: ['JMP_SOCKET_PROXY_API', bool(false)],
  logLevel: ['JMP_LOG_LEVEL', logLevel()],
  ...drainConfigSpec(SOCKET_DRAIN_SECONDS),
} as const;

export interface SocketConfig {
  apiUrl: string; serviceToken: string; sshHost: string; sshPort: number; sshHostKey: HostKeyPin;
  listen: { host: string; port: number }; webDir?: string | undefined; origins?: string[] | undefined; proxyApi: boolean;
  logLevel: string; drainSeconds: number;
}
