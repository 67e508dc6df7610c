// jmp-rdp's variables: the spec is the configuration's type, its --help and the README table.
import { z } from 'zod';
import { bool, logLevelEntry, positiveInt, url, type ConfigOf } from '@jmp/runtime';
import { drainConfigSpec } from '@jmp/runtime/drain';
import { recordingConfigSpec } from '@jmp/recording';

/** A restart waits this long for open desktops, then ends each with a reason. Below TimeoutStopSec (30 s). */
export const RDP_DRAIN_SECONDS = 20;

const hostPort = (def: string, example: string) =>
  z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, `must be host:port, e.g. ${example}`)
    .default(def)
    .transform((v) => {
      const i = v.lastIndexOf(':');
      return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
    })
    .refine((v) => v.port <= 65535, 'port must be at most 65535');

export const rdpConfigSpec = {
  apiUrl: { env: 'JMP_API_URL', schema: url().default('http://127.0.0.1:8080'), help: 'jmp-api base URL' },
  serviceToken: {
    env: 'JMP_SERVICE_TOKEN',
    schema: z.string().min(20, 'must be the token printed by `jmp-api service-token rdp`'),
    help: 'token from `jmp-api service-token rdp`',
  },
  listen: {
    env: 'JMP_RDP_LISTEN',
    schema: hostPort('127.0.0.1:8082', '127.0.0.1:8082'),
    help: 'listen address, `host:port` (WebSocket; nginx passes `/rdp/` here)',
    default: '127.0.0.1:8082',
  },
  guacd: {
    env: 'JMP_RDP_GUACD',
    schema: hostPort('127.0.0.1:4822', '127.0.0.1:4822'),
    help: 'guacd to hand desktops to, `host:port`; guacd has no authentication: keep it on loopback',
    default: '127.0.0.1:4822',
  },
  guacdIdleSeconds: {
    env: 'JMP_RDP_GUACD_IDLE_SECONDS',
    schema: positiveInt(30),
    help: 'end a desktop when guacd sends nothing for this long (it sends a keep-alive every 5 s once connected)',
  },
  maxPerUser: {
    env: 'JMP_RDP_MAX_PER_USER',
    schema: positiveInt(4),
    help: 'desktops one person may have open (and opening) at once, across all instances',
  },
  clientBufferBytes: {
    env: 'JMP_RDP_CLIENT_BUFFER_BYTES',
    schema: positiveInt(4 * 1024 * 1024),
    help: 'output waiting for a page that does not read; above it guacd is paused, and after the stall bound the desktop ends',
  },
  clientStallSeconds: {
    env: 'JMP_RDP_CLIENT_STALL_SECONDS',
    schema: positiveInt(30),
    help: 'end a desktop whose page has not read its output for this long',
  },
  credentialsSeconds: {
    env: 'JMP_RDP_CREDENTIALS_SECONDS',
    schema: positiveInt(60),
    help: 'how long a page may take to send typed (Windows) credentials after it connected',
  },
  recordingDir: {
    env: 'JMP_RDP_RECORDING_DIR',
    schema: z.string().min(1).default('/var/lib/jmp/rdp/recordings'),
    help: "where guacd writes a desktop's recording (`recording-path`); made group-writable and setgid at start: run guacd with jmp-rdp's group (`jmp`)",
  },
  ignoreCert: {
    env: 'JMP_RDP_IGNORE_CERT',
    schema: bool(true),
    help: "accept the target's RDP certificate without checking it (xrdp and Windows use self-signed ones)",
  },
  logLevel: logLevelEntry(),
  ...drainConfigSpec(RDP_DRAIN_SECONDS),
} as const;

/** Every variable jmp-rdp reads: its own, and the recording store's (where finished desktop recordings go). */
export const rdpConfigSpecs = [rdpConfigSpec, recordingConfigSpec];
export type RdpConfig = ConfigOf<typeof rdpConfigSpec>;
