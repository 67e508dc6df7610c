// ssh-hop: how long a person waits for a target's prompt, both read by the
// real OpenSSH client on a pseudo-terminal (test/e2e/pty.ts):
//   jmp     in an established jump shell (ssh -p <jmp-ssh> alice@127.0.0.1,
//           public key), from sending `ssh h1\r` until h1's bash prompt:
//           ticket, session registration, rule load, ssh2 connect to h1's
//           sshd with the ticket (pam_jmp → jmp-agent → jmp-api), guard and
//           recorder set up. jmp-ssh is the bundle in its own process.
//   direct  `ssh -i key alice@<h1>` to the same sshd (public key; PAM account
//           and session still ask pam_jmp), typed into a local shell on its
//           own pty, from sending the line until the same prompt. The key
//           exchange is curve25519 as on jmp-ssh's hop (OpenSSH's default
//           post-quantum one costs ~50 ms more and would flatter jmp).
// Method (test/bench/README.md): a warm-up round of each side, then
// BENCH_ROUNDS (default 3) alternating rounds (direct, jmp, …) of BENCH_HOPS
// (default 10) logins each; each round's ratio is its jmp median / its direct
// median, and `ratio` is the median of these. Target: ratio jmp/direct ≤ 1.5.
// Last line: {"bench":"ssh-hop","ratio":…,"jmp_ms":…,"direct_ms":…,"rounds":…}
import { opensshArgs } from '../lib/openssh.js';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  allowPublicKeyLogin,
  clientKey,
  knownHostsLine,
  startJmpSshProcess,
  startJumpStack,
  type JmpSshProcess,
  type JumpStack,
} from '../../e2e/helpers.js';
import { shellQuote, spawnPty, type Pty } from '../../e2e/pty.js';
import { stop } from '../lib/process.js';
import { alternate, goal, median as medianOf, medianRatio, result, round3, roundCount } from '../lib/method.js';

const HOPS = Number(process.env.BENCH_HOPS ?? 10);
const WARMUP = 3;
const TARGET_RATIO = 1.5;
const H1_PROMPT = /alice@h1:[^\r\n]*\$ /;
const JMP_PROMPT = /\[alice@jmp\]\$ (?:\x1b\[K)?/;
const log = (m: string): void => void process.stderr.write(`ssh-hop: ${m}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return +(s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2).toFixed(1);
};
const pct = (xs: number[], p: number): number =>
  +[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!.toFixed(1);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('ssh-hop builds lab hosts: run it as root');
  const { dir: tmp, keyFile, publicKey: parsed } = clientKey('jmp-bench-hop-');

  let stack: JumpStack | undefined;
  let jmp: JmpSshProcess | undefined;
  const ptys: Pty[] = [];
  try {
    stack = await startJumpStack({
      agentConf: { log: { level: 'warn' } },
      prepare: (h) => allowPublicKeyLogin(h, 'alice', parsed.line),
    });
    const h1 = stack.lab.host('h1');
    const aliceId = await stack.addPerson({ username: 'alice', right: 'login', host: 'h1' });
    await stack.api
      .db('user_ssh_keys')
      .insert({ user_id: aliceId, public_key: parsed.line, fingerprint: parsed.fingerprint });
    await stack.syncHosts(['alice']);
    jmp = await startJmpSshProcess(stack.api, tmp);
    const knownHosts = join(tmp, 'known_hosts');
    writeFileSync(knownHosts, `${knownHostsLine(jmp.port, readFileSync(jmp.hostKeyPath))}\n${h1.knownHostsLine}\n`);
    log('lab, jmp-api and jmp-ssh are up');

    const sshArgs = opensshArgs(keyFile, knownHosts);

    // One jump shell for all hops, as a person would keep it open.
    const shell = spawnPty([...sshArgs, '-p', String(jmp.port), 'alice@127.0.0.1'], {
      env: { TERM: 'xterm', LANG: 'C.UTF-8' },
      maxTranscript: 64 * 1024,
    });
    ptys.push(shell);
    await shell.expect(JMP_PROMPT, 30_000);
    const hop = async (): Promise<number> => {
      shell.skip();
      const t0 = performance.now();
      shell.send('ssh h1\r');
      await shell.expect(H1_PROMPT, 30_000);
      const ms = performance.now() - t0;
      shell.send('exit\r');
      await shell.expect(/Back in jmp\./, 15_000);
      await shell.expect(JMP_PROMPT);
      return ms;
    };
    // The direct side is typed into a local shell on its own pty, so both
    // sides are "a command typed in an open terminal" (no pty set-up counted).
    const local = spawnPty(['sh', '-i'], { env: { TERM: 'xterm', LANG: 'C.UTF-8' }, maxTranscript: 64 * 1024 });
    ptys.push(local);
    const LOCAL_PROMPT = /\r\nlocal\$ $/;
    await local.expect(/[#$] $/);
    local.send("PS1='local$ '\r");
    await local.expect(LOCAL_PROMPT);
    // jmp-ssh's own hop (ssh2) negotiates curve25519; OpenSSH 9.x would pick
    // sntrup761x25519 by default, ~50 ms slower here. Same key exchange on both sides.
    const directCmd = [...sshArgs, '-o', 'KexAlgorithms=curve25519-sha256', `alice@${h1.address}`]
      .map(shellQuote)
      .join(' ');
    const direct = async (): Promise<number> => {
      local.skip();
      const t0 = performance.now();
      local.send(`${directCmd}\r`);
      await local.expect(H1_PROMPT, 30_000);
      const ms = performance.now() - t0;
      local.send('exit\r');
      await local.expect(LOCAL_PROMPT, 15_000);
      return ms;
    };

    if (!Number.isInteger(HOPS) || HOPS < 1)
      throw new Error(`BENCH_HOPS must be a positive integer, got ${process.env.BENCH_HOPS}`);
    const rounds = roundCount();
    // A round is HOPS logins of one side; the warm-up round has WARMUP.
    const side =
      (login: () => Promise<number>) =>
      async (r: number): Promise<number[]> => {
        const ms: number[] = [];
        for (let i = 0; i < (r ? HOPS : WARMUP); i++) ms.push(await login());
        return ms;
      };
    const describe = (ms: number[]) =>
      `median ${median(ms)} ms, p90 ${pct(ms, 90)} ms, min ${Math.min(...ms).toFixed(1)} ms (${ms.length} logins)`;
    const r = await alternate<number[], number[]>({
      bench: 'ssh-hop',
      rounds,
      a: { name: 'direct', run: side(direct) },
      b: { name: 'jmp', run: side(hop) },
      describe,
    });
    shell.send('exit\r');
    await shell.exited;

    // Every hop was a real target session on record.
    const sessions = await stack.api
      .db('sessions')
      .where({ host_id: stack.hostIds.h1 })
      .count<{ n: string }[]>({ n: '*' });
    const n = Number(sessions[0]?.n);
    if (n !== WARMUP + rounds * HOPS) throw new Error(`${n} sessions on record for ${WARMUP + rounds * HOPS} hops`);

    const ratio = medianRatio(r, medianOf, medianOf);
    const jmpAll = r.b.flat(),
      directAll = r.a.flat();
    log(`${rounds} rounds of ${HOPS} logins each: jmp ${describe(jmpAll)}; direct ${describe(directAll)}`);
    goal(
      'ssh-hop',
      'jmp hop / direct login (median of per-round ratios)',
      ratio,
      ratio <= TARGET_RATIO,
      `≤ ${TARGET_RATIO}`,
    );
    result('ssh-hop', {
      ratio,
      jmp_ms: median(jmpAll),
      direct_ms: median(directAll),
      ratio_of_medians: round3(medianOf(jmpAll) / medianOf(directAll)),
      hops_per_round: HOPS,
      rounds,
    });
  } finally {
    for (const p of ptys) await p.close();
    if (jmp) await stop(jmp.proc);
    await stack?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`ssh-hop failed: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
