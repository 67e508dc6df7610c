// `jmp-agent status`: ping the daemon, then show what it last wrote to its
// status file. Works for any user (socket 0666, status file 0644).
import { readStatus, type AgentStatus } from '../report/status.js';
import { allowFlags, type ParsedArgs } from './args.js';
import { askAgent } from './client.js';
import { configFor, stdio, type Io } from './context.js';

export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export async function statusCommand(args: ParsedArgs, io: Io = stdio): Promise<number> {
  allowFlags(args, ['json']);
  const config = configFor(args);
  let ping: { ok: true; mode: string | undefined; version: string | undefined } | { ok: false; error: string };
  try {
    const r = await askAgent(config.socket.path, { op: 'ping' }, 3000);
    ping =
      r.status === 'pong'
        ? { ok: true, mode: r.mode, version: r.version }
        : { ok: false, error: `unexpected answer ${r.status}` };
  } catch (err) {
    ping = { ok: false, error: (err as Error).message };
  }
  const st = readStatus(config.files.status);
  if (args.bools.has('json')) {
    io.out(JSON.stringify({ daemon: ping, status: st }, null, 2));
    return ping.ok ? 0 : 1;
  }
  io.out(
    ping.ok
      ? `daemon:      running (version ${ping.version ?? '?'}), mode ${ping.mode ?? '?'}`
      : `daemon:      NOT RUNNING (${ping.error})`,
  );
  if (!st) {
    io.out(`status file: none at ${config.files.status}`);
    return ping.ok ? 0 : 1;
  }
  for (const l of describe(st)) io.out(l);
  return ping.ok ? 0 : 1;
}

export function describe(st: AgentStatus, now = Date.now()): string[] {
  const out: string[] = [];
  out.push(
    `status file: updated ${age(st.updatedAt, now)}${st.stoppedAt ? ` (daemon stopped ${age(st.stoppedAt, now)})` : ''}, pid ${st.pid}`,
  );
  out.push(
    st.enrolled
      ? `enrolled:    ${st.enrolled.hostname} (host id ${st.enrolled.hostId}), api ${st.enrolled.apiUrl}`
      : 'enrolled:    no',
  );
  const api =
    st.api.state === 'up'
      ? `reachable (last answer ${age(st.api.lastOkAt, now)})`
      : st.api.state === 'down'
        ? `UNREACHABLE since ${age(st.api.downSince, now)}: ${st.api.lastError ?? ''}`
        : 'not asked yet';
  out.push(`jmp-api:     ${api}`);
  out.push(
    st.snapshot
      ? `snapshot:    ${st.snapshot.users} users, generated ${age(st.snapshot.generatedAt, now)}, checked ${age(st.snapshot.lastCheckedAt ?? st.snapshot.receivedAt, now)}`
      : 'snapshot:    none',
  );
  out.push(
    st.lastDecision
      ? `last decision: ${st.lastDecision.op} ${st.lastDecision.user} → ${st.lastDecision.allow ? 'allow' : 'deny'} (${st.lastDecision.mode}) ${age(st.lastDecision.at, now)}`
      : 'last decision: none',
  );
  out.push(`degraded:    ${st.degraded.length ? st.degraded.join(', ') : 'no'}`);
  out.push(`events:      ${st.events.queued} queued${st.events.dropped ? `, ${st.events.dropped} dropped` : ''}`);
  out.push(
    `guard:       ${st.guard.files} files, ${st.guard.tampers} changes reverted${st.guard.lastTamper ? ` (last: ${st.guard.lastTamper.file} ${age(st.guard.lastTamper.at, now)})` : ''}`,
  );
  return out;
}
