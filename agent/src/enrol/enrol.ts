// `jmp-agent enroll --api URL --token T`: a fresh key pair, registration of
// the host's name, addresses and SSH host keys, then the key and state files.
// The new key replaces the old one only once jmp-api has accepted it.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import type { Logger } from '@jmp/runtime';
import type { AgentConfig } from '../config.js';
import { createAgentApi, createTransport } from '../api/client.js';
import { fsyncDir } from '../persist/atomic.js';
import { dirname } from 'node:path';
import { generateAgentKey, writeAgentKey } from './keys.js';
import { localAddresses, localHostname, readSshHostKeys } from './facts.js';
import { readState, writeState, type AgentState } from './state.js';

export interface EnrolOptions {
  apiUrl: string;
  token: string;
  hostname?: string;
  addresses?: string[];
  /** Enrol again although state says this host is enrolled. */
  force?: boolean;
}

export class EnrolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnrolError';
  }
}

export async function enrol(
  config: AgentConfig,
  opts: EnrolOptions,
  log: Pick<Logger, 'warn' | 'info'>,
): Promise<AgentState> {
  const existing = readState(config.files.state);
  if (existing && !opts.force) {
    throw new EnrolError(
      `this host is already enrolled as ${existing.hostname} (host id ${existing.hostId}) with ${existing.apiUrl}; pass --force to enrol again (an administrator must first reset its enrolment in jmp-api and bind the token to it)`,
    );
  }
  const hostname = (opts.hostname ?? localHostname()).toLowerCase();
  const addresses = opts.addresses?.length ? opts.addresses : localAddresses();
  if (addresses.length === 0) throw new EnrolError('no network address found on this host; pass --address ADDR');
  const { keys: sshHostKeys, problems } = readSshHostKeys(config.sshHostKeyFiles);
  for (const p of problems) log.warn(`skipping SSH host key ${p}`);
  if (sshHostKeys.length === 0)
    log.warn(
      `no SSH host key found in ${config.sshHostKeyFiles.join(', ')}; jmp-ssh will refuse to connect until one is registered`,
    );

  const key = generateAgentKey();
  const pending = `${config.keyFile}.new`;
  writeAgentKey(pending, key);
  const transport = createTransport(config, log);
  const api = createAgentApi({
    baseUrl: opts.apiUrl,
    transport,
    requestTimeoutMs: config.api.requestTimeoutMs,
    decideTimeoutMs: config.api.decideTimeoutMs,
  });
  let res: { hostId: number; hostname: string };
  try {
    res = await api.main.enroll({
      token: opts.token,
      hostname,
      addresses,
      sshHostKeys,
      agentPublicKey: key.publicKeyPem,
    });
  } catch (err) {
    rmSync(pending, { force: true });
    throw new EnrolError(`jmp-api refused the enrolment: ${(err as Error).message}`);
  } finally {
    api.close();
  }
  renameSync(pending, config.keyFile);
  fsyncDir(dirname(config.keyFile));
  const state: AgentState = {
    hostId: res.hostId,
    hostname: res.hostname,
    apiUrl: opts.apiUrl.replace(/\/+$/, ''),
    enrolledAt: new Date().toISOString(),
  };
  mkdirSync(dirname(config.files.state), { recursive: true, mode: 0o755 });
  writeState(config.files.state, state);
  log.info({ hostId: res.hostId, hostname: res.hostname }, 'enrolled');
  return state;
}
