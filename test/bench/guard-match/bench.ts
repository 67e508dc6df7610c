// guard-match: 1,000 realistic rules (one RE2.Set per list), ≥ 10,000 submitted
// lines, p99 of the per-line match; baseline in the same run: one trivial RE2
// match per line. Also the whole guard path of a submission (screen read +
// match) for information. A missed target does not fail; a wrong verdict does.
import RE2 from 're2';
import { compileRules, type GuardRule } from '@jmp/guard/rules';
import { DEMO_RULES } from '@jmp/guard/demo-rules';
import { CommandGuard } from '@jmp/guard';
import { median, roundCount } from '../lib/method.js';

const RULES = 1000,
  LINES = Number(process.env.BENCH_LINES ?? 20_000),
  TARGET_US = 100;

const CMD = String.raw`(?:^|[\s;&|(` + '`' + String.raw`]|\$\()\\?(?:[\w./-]*/)?`;
const commands = [
  'rm',
  'dd',
  'mkfs',
  'shred',
  'wipefs',
  'fdisk',
  'parted',
  'chmod',
  'chown',
  'iptables',
  'nft',
  'systemctl',
  'kill',
  'pkill',
  'killall',
  'useradd',
  'userdel',
  'usermod',
  'passwd',
  'crontab',
  'mount',
  'umount',
  'swapoff',
  'modprobe',
  'rmmod',
  'insmod',
  'sysctl',
  'reboot',
  'shutdown',
  'halt',
  'poweroff',
  'init',
  'telinit',
  'mv',
  'cp',
  'ln',
  'truncate',
  'tee',
  'curl',
  'wget',
  'nc',
  'ncat',
  'socat',
  'ssh-keygen',
  'visudo',
  'apt-get',
  'apt',
  'dpkg',
  'yum',
  'rpm',
  'pip',
  'npm',
  'docker',
  'kubectl',
  'helm',
  'terraform',
  'psql',
  'mysql',
  'redis-cli',
  'mongo',
  'git',
  'rsync',
  'scp',
  'tar',
  'zip',
  'openssl',
  'gpg',
  'setenforce',
  'auditctl',
  'journalctl',
  'history',
  'export',
  'unset',
  'alias',
  'eval',
  'exec',
  'python',
  'perl',
  'ruby',
  'node',
  'bash',
  'sh',
  'zsh',
  'su',
  'sudo',
  'chattr',
  'lvremove',
  'vgremove',
  'pvremove',
  'zpool',
  'zfs',
  'btrfs',
  'xfs_repair',
  'fsck',
  'e2fsck',
  'tune2fs',
  'losetup',
  'cryptsetup',
];
const args = [
  '/',
  '/etc',
  '/etc/passwd',
  '/etc/shadow',
  '/etc/sudoers',
  '/boot',
  '/var/lib',
  '/dev/sd[a-z]',
  '/dev/nvme\\d',
  '-rf',
  '--force',
  '777',
  'root',
  'prod',
  '--all',
  'DROP',
  'delete',
  'flush',
  'stop',
  'disable',
  'purge',
];
const severities = ['low', 'medium', 'high', 'critical'] as const;

function makeRules(): GuardRule[] {
  const rules: GuardRule[] = DEMO_RULES.map((r) => ({ ...r }));
  let i = 0;
  while (rules.length < RULES) {
    const c = commands[i % commands.length]!;
    const a = args[Math.floor(i / commands.length) % args.length]!;
    const variant = Math.floor(i / (commands.length * args.length));
    const pattern =
      variant === 0
        ? `${CMD}${c.replace(/[.+-]/g, (m) => '\\' + m)}\\s+(?:[^;&|\\n]*\\s)?${a}(?:\\s|$|[;&|)])`
        : `(?i)${CMD}(?:sudo\\s+)?${c.replace(/[.+-]/g, (m) => '\\' + m)}\\b[^;&|\\n]*${a}\\w{0,${variant + 2}}`;
    rules.push({
      id: `r${i}`,
      name: `${c} ${a} #${i}`,
      pattern,
      action: i % 3 === 0 ? 'block' : 'alert',
      severity: severities[i % 4]!,
      list: 'deny',
    });
    i++;
  }
  return rules;
}

function makeLines(): string[] {
  const benign = [
    'ls -la',
    'cd /var/log',
    'tail -n 100 syslog',
    'grep -r ERROR /var/log/app',
    'df -h',
    'free -m',
    'top -b -n1 | head',
    'ps aux | grep nginx',
    'cat /etc/os-release',
    'systemctl status nginx',
    'journalctl -u nginx --since today',
    'vim /etc/nginx/nginx.conf',
    'docker ps -a',
    'kubectl get pods -n prod',
    'git log --oneline | head -20',
    'du -sh /var/* | sort -h',
    'echo $PATH',
    'uptime',
    'find /tmp -name "*.log" -mtime +7',
    'tar czf backup.tgz /srv/app',
    `curl -s https://example.com/health | jq .`,
  ];
  const risky = [
    'rm -rf /',
    'sudo rm -rf /var/lib/mysql',
    'chmod -R 777 /',
    'dd if=/dev/zero of=/dev/sda bs=1M',
    'systemctl stop nginx',
    'iptables --flush',
    'userdel -r bob',
    'kubectl delete ns prod',
    'ls; rm -rf /',
    'echo x > /etc/passwd',
    'shutdown -h now',
  ];
  const out: string[] = [];
  for (let i = 0; i < LINES; i++) {
    const base = i % 10 === 0 ? risky[i % risky.length]! : benign[i % benign.length]!;
    // Vary the lines so that nothing is trivially cached; a few long ones.
    out.push(i % 500 === 0 ? `${base} ${'x'.repeat(4000)}` : `${base} ${i % 7 === 0 ? '--verbose ' : ''}# ${i}`);
  }
  return out;
}

function p(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function timeEach(lines: string[], fn: (l: string) => unknown): number[] {
  const us: number[] = [];
  for (const l of lines) {
    const t0 = process.hrtime.bigint();
    fn(l);
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return us;
}

function main(): void {
  const t0 = performance.now();
  const compiled = compileRules(makeRules());
  const compileMs = performance.now() - t0;
  if (compiled.size !== RULES) throw new Error(`expected ${RULES} rules, got ${compiled.size}`);
  // Functional checks: a wrong verdict fails the benchmark.
  const must: Array<[string, string]> = [
    ['rm -rf /', 'block'],
    ['ls -la', 'pass'],
    ['ls; rm -rf /', 'block'],
    ['chmod -R 777 /etc', 'alert'],
  ];
  for (const [line, want] of must) {
    const got = compiled.match(line).verdict;
    if (got !== want && !(want === 'alert' && got === 'block'))
      throw new Error(`functional failure: ${JSON.stringify(line)} gave ${got}, want ${want}`);
  }
  const lines = makeLines();
  const trivial = new RE2('^ls\\b', 'u');
  // Warm up both paths.
  timeEach(lines.slice(0, 2000), (l) => compiled.match(l));
  timeEach(lines.slice(0, 2000), (l) => trivial.test(l));
  // Alternating rounds (test/bench/README.md): trivial RE2, 1,000 rules, …; median of per-round p99 ratios.
  const rounds = roundCount();
  const base: number[] = [],
    rules: number[] = [],
    ratios: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const b = timeEach(lines, (l) => trivial.test(l));
    const m = timeEach(lines, (l) => compiled.match(l));
    base.push(...b);
    rules.push(...m);
    ratios.push(p(m, 0.99) / p(b, 0.99));
    process.stderr.write(
      `guard-match: round ${r}/${rounds}: trivial RE2 p99 ${round(p(b, 0.99))} µs, 1,000 rules p99 ${round(p(m, 0.99))} µs\n`,
    );
  }
  const verdicts = lines.map((l) => compiled.match(l).verdict);
  const blocked = verdicts.filter((v) => v === 'block').length,
    alerted = verdicts.filter((v) => v === 'alert').length;

  // The whole guard path of a submission: typed line echoed, then Enter.
  const g = new CommandGuard({ cols: 120, rows: 40, rules: compiled });
  g.output(Buffer.from('u@h:~$ '));
  const guardUs: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const l = lines[i % lines.length]!.slice(0, 200);
    g.input(Buffer.from(l));
    g.output(Buffer.from(l));
    const s = process.hrtime.bigint();
    const r = g.input(Buffer.from('\r'));
    guardUs.push(Number(process.hrtime.bigint() - s) / 1000);
    if (r.hold) throw new Error('functional failure: the guard held an echoed line');
    g.output(Buffer.from(r.blocked ? '\r\x1b[Ku@h:~$ ' : '\r\nok\r\nu@h:~$ '));
  }
  g.dispose();

  const res = {
    bench: 'guard-match',
    ratio: round(median(ratios)),
    rounds,
    rules: RULES,
    lines: lines.length,
    p50_us: round(p(rules, 0.5)),
    p99_us: round(p(rules, 0.99)),
    max_us: round(Math.max(...rules)),
    baseline_p99_us: round(p(base, 0.99)),
    baseline_p50_us: round(p(base, 0.5)),
    guard_p99_us: round(p(guardUs.slice(500), 0.99)),
    compile_ms: round(compileMs),
    blocked,
    alerted,
    target_p99_us: TARGET_US,
    target_met: p(rules, 0.99) < TARGET_US,
  };
  process.stderr.write(
    `guard-match: ${RULES} rules compiled in ${res.compile_ms} ms; ${lines.length} lines (${blocked} blocked, ${alerted} alerted)\n`,
  );
  process.stderr.write(
    `  match p50 ${res.p50_us} µs, p99 ${res.p99_us} µs (target < ${TARGET_US}); baseline (one trivial RE2) p99 ${res.baseline_p99_us} µs; guard submission path p99 ${res.guard_p99_us} µs\n`,
  );
  console.log(JSON.stringify(res));
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
