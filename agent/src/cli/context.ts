// Shared by the commands: the config (from --config / JMP_AGENT_CONFIG) and
// a logger on stderr for the one-shot commands (stdout is their output).
import type { Logger } from '@jmp/runtime';
import { configPathFrom, loadAgentConfig, type AgentConfig } from '../config.js';
import { createAgentApi, createTransport } from '../api/client.js';
import { HostTokenSigner } from '../api/host-token.js';
import type { Target } from '../agent.js';
import { loadAgentKey } from '../enrol/keys.js';
import { readState, type AgentState } from '../enrol/state.js';
import { flag, type ParsedArgs } from './args.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const stdio: Io = {
  out: (l) => void process.stdout.write(l + '\n'),
  err: (l) => void process.stderr.write(l + '\n'),
};

export function configFor(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const explicit = flag(args, 'config');
  return loadAgentConfig(configPathFrom(explicit, env), explicit !== undefined || !!env['JMP_AGENT_CONFIG']);
}

export type CliLog = Pick<Logger, 'warn' | 'info' | 'error' | 'debug'>;

/** Human-readable log lines on stderr: "jmp-agent: warning: …". Info and debug only when verbose. */
export function cliLogger(io: Io = stdio, verbose = false): CliLog {
  const line = (label: string, show: boolean) => (a: unknown, b?: unknown) => {
    if (!show) return;
    const msg = typeof a === 'string' ? a : typeof b === 'string' ? b : '';
    const obj = typeof a === 'object' && a !== null ? a : undefined;
    io.err(`jmp-agent: ${label}${msg}${obj ? ' ' + JSON.stringify(obj) : ''}`);
  };
  return {
    warn: line('warning: ', true),
    error: line('error: ', true),
    info: line('', verbose),
    debug: line('', false),
  } as unknown as CliLog;
}

/** The enrolled identity and an api client for one-shot commands. Throws a sentence when not enrolled. */
export function hostTarget(config: AgentConfig, log: CliLog): Target & { state: AgentState; close(): void } {
  const state = readState(config.files.state);
  if (!state)
    throw new Error(`this host is not enrolled (no ${config.files.state}); run jmp-agent enroll --api URL --token T`);
  const key = loadAgentKey(config.keyFile);
  const transport = createTransport(config, log);
  const api = createAgentApi({
    baseUrl: config.api.url ?? state.apiUrl,
    transport,
    signer: new HostTokenSigner(key.privateKey, state.hostId),
    requestTimeoutMs: config.api.requestTimeoutMs,
    decideTimeoutMs: config.api.decideTimeoutMs,
  });
  return { api, hostId: state.hostId, hostname: state.hostname, state, close: () => transport.close() };
}
