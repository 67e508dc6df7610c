// `jmp-agent doctor`: is this host wired for jmp? Each check prints one
// OK / WARN / FAIL line; the last one runs a real PAM stack (pam_jmp.so
// through libpam, via @jmp/native) against the running daemon.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAddonAvailable, pam } from '@jmp/native';
import type { AgentConfig } from '../config.js';
import { readState } from '../enrol/state.js';
import { readStatus } from '../report/status.js';
import { allowFlags, flag, type ParsedArgs } from './args.js';
import { askAgent } from './client.js';
import { configFor, stdio, type Io } from './context.js';

export type Level = 'OK' | 'WARN' | 'FAIL';
export interface Check {
  level: Level;
  what: string;
  detail: string;
}

const SECURITY_DIR = '/usr/lib/x86_64-linux-gnu/security';

function activeLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

function check(what: string, fn: () => [Level, string]): Check {
  try {
    const [level, detail] = fn();
    return { level, what, detail };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { level: 'FAIL', what, detail: e.code === 'ENOENT' ? `${e.path ?? 'file'} does not exist` : e.message };
  }
}

/** The checks that only read files. */
export function fileChecks(config: AgentConfig): Check[] {
  const out: Check[] = [];
  out.push(
    check('key file', () => {
      const st = statSync(config.keyFile);
      if ((st.mode & 0o077) !== 0)
        return ['FAIL', `${config.keyFile} has mode ${(st.mode & 0o777).toString(8)}; it must be 600`];
      return ['OK', `${config.keyFile} (600)`];
    }),
  );
  out.push(
    check('enrolment', () => {
      const s = readState(config.files.state);
      return s
        ? ['OK', `${s.hostname} (host id ${s.hostId}), api ${config.api.url ?? s.apiUrl}`]
        : ['FAIL', `not enrolled (no ${config.files.state}); run jmp-agent enroll`];
    }),
  );
  for (const [name, path, fields] of [
    ['passwd cache', config.files.passwd, 7],
    ['group cache', config.files.group, 4],
  ] as const) {
    out.push(
      check(name, () => {
        const st = statSync(path);
        if (!st.isFile()) return ['FAIL', `${path} is not a regular file`];
        if (st.mode & 0o022) return ['FAIL', `${path} is group/world-writable; libnss_jmp ignores it`];
        if (st.uid !== 0 && st.uid !== process.geteuid?.())
          return ['FAIL', `${path} is owned by uid ${st.uid}; libnss_jmp ignores it`];
        if ((st.mode & 0o004) === 0)
          return ['WARN', `${path} is not world-readable; lookups by non-root processes will miss jmp users`];
        const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
        const bad = lines.filter((l) => l.split(':').length !== fields).length;
        return bad ? ['FAIL', `${path}: ${bad} malformed lines`] : ['OK', `${path}: ${lines.length} entries`];
      }),
    );
  }
  out.push(
    check('nss.conf', () => {
      const want = { passwd: '/var/lib/jmp/passwd', group: '/var/lib/jmp/group' };
      if (existsSync(config.doctor.nssConf)) {
        for (const l of activeLines(config.doctor.nssConf)) {
          const m = /^(passwd|group)\s*=\s*(\S+)$/.exec(l);
          if (m) want[m[1] as 'passwd' | 'group'] = m[2]!;
        }
      }
      const wrong = (['passwd', 'group'] as const).filter((k) => want[k] !== config.files[k]);
      return wrong.length
        ? ['FAIL', wrong.map((k) => `libnss_jmp reads ${want[k]} but the agent writes ${config.files[k]}`).join('; ')]
        : ['OK', `libnss_jmp reads ${want.passwd} and ${want.group}`];
    }),
  );
  out.push(
    check('nsswitch.conf', () => {
      const lines = activeLines(config.doctor.nsswitch);
      const missing = ['passwd', 'group'].filter(
        (db) => !lines.some((l) => new RegExp(`^${db}\\s*:.*\\bjmp\\b`).test(l)),
      );
      return missing.length
        ? ['FAIL', `${config.doctor.nsswitch}: no "jmp" source on the ${missing.join(' and ')} line(s)`]
        : ['OK', `${config.doctor.nsswitch}: passwd and group use jmp`];
    }),
  );
  const pamFiles = [...config.doctor.pamFiles, ...config.doctor.optionalPamFiles.filter((p) => existsSync(p))];
  for (const path of pamFiles) {
    out.push(
      check(`pam ${path.split('/').pop()}`, () => {
        const lines = activeLines(path).filter((l) => /pam_jmp\.so\b/.test(l));
        const types = new Set(lines.map((l) => l.replace(/^-/, '').split(/\s+/)[0]));
        if (!types.has('auth')) return ['FAIL', `${path}: no "auth … pam_jmp.so" line`];
        if (/(sshd|xrdp-sesman)$/.test(path) && !types.has('account'))
          return ['WARN', `${path}: no "account … pam_jmp.so" line (account checks skipped)`];
        return ['OK', `${path}: pam_jmp.so in ${[...types].join(', ')}`];
      }),
    );
  }
  out.push(
    check('sudoers', () => {
      const st = statSync(config.doctor.sudoers);
      const text = readFileSync(config.doctor.sudoers, 'utf8');
      const missing = ['timestamp_timeout=0', 'noninteractive_auth'].filter((s) => !text.includes(s));
      if (st.mode & 0o022) return ['FAIL', `${config.doctor.sudoers} is writable by others; sudo ignores it`];
      return missing.length
        ? ['WARN', `${config.doctor.sudoers}: missing ${missing.join(', ')}`]
        : ['OK', `${config.doctor.sudoers}: timestamp_timeout=0, noninteractive_auth`];
    }),
  );
  out.push(
    check('pam module', () =>
      existsSync(config.doctor.pamModule)
        ? ['OK', config.doctor.pamModule]
        : ['FAIL', `${config.doctor.pamModule} does not exist`],
    ),
  );
  return out;
}

/** The daemon answers ping; and its own view of jmp-api and the disk. */
export async function daemonChecks(config: AgentConfig): Promise<Check[]> {
  const out: Check[] = [];
  try {
    const r = await askAgent(config.socket.path, { op: 'ping' }, 3000);
    out.push(
      r.status === 'pong'
        ? { level: 'OK', what: 'daemon', detail: `answers on ${config.socket.path} (mode ${r.mode ?? '?'})` }
        : { level: 'FAIL', what: 'daemon', detail: `unexpected answer ${r.status}` },
    );
  } catch (err) {
    out.push({ level: 'FAIL', what: 'daemon', detail: (err as Error).message });
  }
  const st = readStatus(config.files.status);
  if (st && !st.stoppedAt) {
    out.push(
      st.degraded.length
        ? {
            level: 'WARN',
            what: 'degraded',
            detail: `${st.degraded.join(', ')}${st.api.lastError ? ` (${st.api.lastError})` : ''}`,
          }
        : { level: 'OK', what: 'degraded', detail: 'no' },
    );
  }
  return out;
}

/** A real PAM conversation: pam_jmp.so asks the daemon about a probe ticket; any answer with a reason proves the path. */
export async function pamStackCheck(config: AgentConfig, user: string): Promise<Check> {
  const what = 'pam stack';
  if (!existsSync(config.doctor.pamModule))
    return { level: 'FAIL', what, detail: `${config.doctor.pamModule} does not exist` };
  if (!isAddonAvailable())
    return { level: 'FAIL', what, detail: 'the jmp-native addon is not built (make native-build)' };
  const dir = mkdtempSync(join(tmpdir(), 'jmp-doctor-'));
  try {
    const args = `socket=${config.socket.path} timeout_ms=3000 fail_mode=deny conf=${join(dir, 'absent.conf')}`;
    writeFileSync(
      join(dir, 'jmp-doctor'),
      `auth required ${config.doctor.pamModule} ${args}\naccount required ${SECURITY_DIR}/pam_permit.so\n`,
    );
    const r = await pam.authenticate({
      service: 'jmp-doctor',
      user,
      confdir: dir,
      answers: ['jmp-doctor-probe'],
      rhost: '127.0.0.1',
      tty: 'jmp-doctor',
    });
    const info = r.messages.filter((m) => m.style === 'info' || m.style === 'error').map((m) => m.text);
    if (r.result === 'PAM_SUCCESS')
      return { level: 'WARN', what, detail: 'the probe ticket was accepted?! check the agent' };
    if (info.length)
      return {
        level: 'OK',
        what,
        detail: `pam_jmp.so asked the daemon and got an answer (${r.result}: ${info.join(' / ')})`,
      };
    return {
      level: 'FAIL',
      what,
      detail: `pam_jmp.so got no answer from the daemon (${r.result} at ${r.step}; run as root?)`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function doctorCommand(args: ParsedArgs, io: Io = stdio): Promise<number> {
  allowFlags(args, ['user']);
  const config = configFor(args);
  io.out(`OK   config: ${config.configPath}`);
  const checks = [
    ...fileChecks(config),
    ...(await daemonChecks(config)),
    await pamStackCheck(config, flag(args, 'user') ?? 'root'),
  ];
  for (const c of checks) io.out(`${c.level.padEnd(4)} ${c.what}: ${c.detail}`);
  return checks.some((c) => c.level === 'FAIL') ? 1 : 0;
}
