// jmp-socket's variables: the spec is the configuration's type, its --help and the README table.
import { z } from 'zod';
import { bool, logLevelEntry, port, url, type ConfigOf } from '@jmp/runtime';
import { drainConfigSpec } from '@jmp/runtime/drain';
import { parseHostKeyPin, type HostKeyPin } from './ssh/host-key-pin.js';

/**
 * A restart waits this long for open terminals, then ends each with a reason;
 * the page can open a new one at once. Below the unit's TimeoutStopSec (30 s).
 */
export const SOCKET_DRAIN_SECONDS = 20;

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8081')
  .default('127.0.0.1:8081')
  .transform((v) => {
    const i = v.lastIndexOf(':');
    return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
  })
  .refine((v) => v.port <= 65535, 'port must be at most 65535');

const hostKeyPin = z.string().transform((v, ctx): HostKeyPin => {
  const pin = parseHostKeyPin(v);
  if (typeof pin === 'string') {
    ctx.addIssue({ code: 'custom', message: pin });
    return z.NEVER;
  }
  return pin;
});

const origins = z
  .string()
  .transform((v, ctx): string[] => {
    const out: string[] = [];
    for (const raw of v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${raw} is not an origin like https://jmp.example.com` });
        return z.NEVER;
      }
      if (!/^https?:$/.test(u.protocol) || u.origin !== raw.replace(/\/$/, '')) {
        ctx.addIssue({
          code: 'custom',
          message: `${raw} is not an origin like https://jmp.example.com (scheme, host, port; no path)`,
        });
        return z.NEVER;
      }
      out.push(u.origin);
    }
    return out;
  })
  .optional();

export const socketConfigSpec = {
  apiUrl: { env: 'JMP_API_URL', schema: url().default('http://127.0.0.1:8080'), help: 'jmp-api base URL' },
  serviceToken: {
    env: 'JMP_SERVICE_TOKEN',
    schema: z.string().min(20, 'must be the token printed by `jmp-api service-token socket`'),
    help: 'token from `jmp-api service-token socket`',
  },
  sshHost: { env: 'JMP_SSH_HOST', schema: z.string().min(1).default('127.0.0.1'), help: 'jmp-ssh to connect to: host' },
  sshPort: { env: 'JMP_SSH_PORT', schema: port(2200), help: 'jmp-ssh to connect to: port' },
  sshHostKey: {
    env: 'JMP_SSH_HOST_KEY',
    schema: hostKeyPin,
    help: "jmp-ssh's host key, pinned: its fingerprint (`SHA256:…`) or public key line",
  },
  listen: { env: 'JMP_SOCKET_LISTEN', schema: listen, help: 'listen address, `host:port`', default: '127.0.0.1:8081' },
  webDir: {
    env: 'JMP_WEB_DIR',
    schema: z.string().optional(),
    help: "serve the built web console's static files from here (development)",
  },
  origins: {
    env: 'JMP_SOCKET_ORIGINS',
    schema: origins,
    help: 'browser origins allowed to open terminals, comma-separated',
    unset: 'unset: the page must come from the Host it connects to',
  },
  proxyApi: {
    env: 'JMP_SOCKET_PROXY_API',
    schema: bool(false),
    help: 'pass `/v1/*` to jmp-api, so the console has one origin (development without nginx)',
  },
  proxyRdp: {
    env: 'JMP_SOCKET_PROXY_RDP',
    schema: url().optional(),
    help: 'pass `/rdp/` WebSocket upgrades to this jmp-rdp (`http://host:port`), so desktops open on the same origin (development without nginx)',
    unset: 'unset: no desktops through jmp-socket',
  },
  logLevel: logLevelEntry(),
  ...drainConfigSpec(SOCKET_DRAIN_SECONDS),
} as const;

export type SocketConfig = ConfigOf<typeof socketConfigSpec>;

/** Every variable jmp-socket reads, in the order of --help and the README. */
export const socketConfigSpecs = [socketConfigSpec] as const;
