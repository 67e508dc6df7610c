// target-login: a full keyboard-interactive SSH login (ssh2 client, as jmp-ssh
// connects to targets; connect → authenticated → `true` → exit status) to a lab
// host whose sshd asks pam_jmp → jmp-agent → jmp-api (ticket minted per login,
// before the clock starts; session_open audited), against the same sshd, same
// PAM stack with pam_permit.so in pam_jmp's place, on a second lab host in the
// same run. Logins alternate between the two; medians over ROUNDS each.
// Target: ratio ≤ 1.3. A failed login fails the bench (exit 1).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR, startLab, writeNssCache, type Lab } from '../../lab/lab.js';
import {
  addGrant,
  addProject,
  addService,
  addUser,
  startApi,
  type TestApi,
} from '../../../services/api/test/harness.js';
import { enrolLabHosts, ssh2Login, until, writeAgentConf } from '../../e2e/helpers.js';
import { median as medianOf } from '../lib/method.js';

const ROUNDS = Math.max(30, Number(process.env.BENCH_LOGINS ?? 40));
const WARMUP = 3;
const log = (m: string): void => void process.stderr.write(`target-login: ${m}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return +(s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2).toFixed(2);
};

async function main(): Promise<void> {
  let lab: Lab | undefined;
  let api: TestApi | undefined;
  try {
    lab = await startLab({
      hosts: ['jmp', 'base'],
      // jmp: the real agent; base: no agent (nothing asks it).
      agentCommand: (h) =>
        h.name === 'jmp'
          ? [
              process.execPath,
              '--import',
              'tsx',
              join(REPO_DIR, 'agent/src/main.ts'),
              'run',
              '--config',
              '/etc/jmp/agent.conf',
            ]
          : null,
      prepare: (h) => {
        if (h.name === 'jmp') writeAgentConf(h, { log: { level: 'warn' } });
        else {
          // The same stack with pam_permit.so wherever pam_jmp.so was (auth, account, session).
          const file = join(h.etcDir, 'pam.d', 'sshd');
          const stack = readFileSync(file, 'utf8').replace(/\S*pam_jmp\.so[^\n]*/g, 'pam_permit.so');
          if (/^[^#]*pam_jmp/m.test(stack) || !stack.includes('pam_permit.so'))
            throw new Error(`baseline stack not rewritten:\n${stack}`);
          writeFileSync(file, stack);
        }
      },
    });
    const jmp = lab.host('jmp');
    const base = lab.host('base');
    api = await startApi({ listenHost: lab.bridgeAddress });
    const svc = await addService(api.db, (await addProject(api.db)).id);
    await enrolLabHosts(api, svc.id, [jmp]);
    const alice = await addUser(api.db, { username: 'alice' });
    await addGrant(api.db, { subject_id: alice.id, scope_type: 'service', scope_id: svc.id, right: 'login' });
    await jmp.restartAgent();
    await until(
      'alice in the jmp host NSS cache',
      async () => (await jmp.exec(['getent', 'passwd', 'alice'])).code === 0,
      20_000,
    );
    // The baseline host resolves alice the same way (libnss_jmp), from a copy of the agent's files.
    writeNssCache(base, {
      passwd: readFileSync(join(jmp.stateDir, 'passwd'), 'utf8'),
      group: readFileSync(join(jmp.stateDir, 'group'), 'utf8'),
    });

    const ssh = `Bearer ${api.serviceToken('ssh')}`;
    const mintMs: number[] = [];
    const login = async (which: 'jmp' | 'base'): Promise<number> => {
      let ticket = 'unused';
      if (which === 'jmp') {
        const t0 = performance.now();
        const r = await api!.call('POST', '/v1/tickets', { auth: ssh, body: { user: 'alice', host: 'jmp' } });
        if (r.status !== 201) throw new Error(`ticket: ${r.status} ${JSON.stringify(r.body)}`);
        ticket = r.body.ticket as string;
        mintMs.push(performance.now() - t0);
      }
      const h = which === 'jmp' ? jmp : base;
      const t0 = performance.now();
      const r = await ssh2Login(h, 'alice', ticket, 'true');
      const ms = performance.now() - t0;
      if (r.code !== 0) throw new Error(`${which} login failed: exit ${r.code} ${r.stderr}`);
      const wantPrompts = which === 'jmp' ? ['jmp ticket: '] : [];
      if (JSON.stringify(r.prompts) !== JSON.stringify(wantPrompts))
        throw new Error(`${which}: prompts ${JSON.stringify(r.prompts)}`);
      return ms;
    };
    for (let i = 0; i < WARMUP; i++) {
      await login('jmp');
      await login('base');
    }
    mintMs.length = 0;
    const jmpMs: number[] = [];
    const baseMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so drift on a busy machine hits both alike.
      if (i % 2) {
        jmpMs.push(await login('jmp'));
        baseMs.push(await login('base'));
      } else {
        baseMs.push(await login('base'));
        jmpMs.push(await login('jmp'));
      }
    }
    // Functional check: jmp-api decided (and audited) every jmp login.
    const audits = Number(
      (await api.db('audit_events').where({ action: 'pam.auth.allow', target: 'alice@jmp' }).count({ n: '*' }))[0]!.n,
    );
    if (audits !== ROUNDS + WARMUP) throw new Error(`expected ${ROUNDS + WARMUP} audited logins, found ${audits}`);

    const jmpMed = median(jmpMs);
    const baseMed = median(baseMs);
    // Median of the per-pair ratios (test/bench/README.md): each pair ran back to back, so noise hits both.
    const ratio = +medianOf(jmpMs.map((j, i) => j / baseMs[i]!)).toFixed(3);
    log(
      `${ROUNDS} logins each (ssh2 client, keyboard-interactive, command 'true'), alternating, after ${WARMUP} warm-up logins each`,
    );
    log(
      `pam_jmp + agent + jmp-api: median ${jmpMed} ms (min ${Math.min(...jmpMs).toFixed(1)}, max ${Math.max(...jmpMs).toFixed(1)}); ticket mint (not in the login time) median ${median(mintMs)} ms`,
    );
    log(
      `pam_permit baseline:       median ${baseMed} ms (min ${Math.min(...baseMs).toFixed(1)}, max ${Math.max(...baseMs).toFixed(1)})`,
    );
    log(
      `median of per-pair ratios ${ratio}; ratio of medians ${(jmpMed / baseMed).toFixed(3)} (target ≤ 1.3: ${ratio <= 1.3 ? 'met' : 'MISSED'})`,
    );
    console.log(
      JSON.stringify({
        bench: 'target-login',
        jmp_ms: jmpMed,
        baseline_ms: baseMed,
        ratio,
        ratio_of_medians: +(jmpMed / baseMed).toFixed(3),
        rounds: ROUNDS,
        logins: ROUNDS,
        mint_ms: median(mintMs),
      }),
    );
  } finally {
    await api?.close();
    await lab?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`target-login failed: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
