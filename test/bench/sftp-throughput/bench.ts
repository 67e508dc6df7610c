// sftp-throughput: the OpenSSH sftp client (`sftp -b`, its defaults: 64
// requests of 32 KiB in flight) moving one file up and down
//   jmp     through jmp-sftp (port 2222 role; the bundle in its own process):
//           /h1/tmp/… in alice's own SFTP session on h1, every READ/WRITE
//           forwarded at once and answered by request id
//   direct  straight to h1's sshd as alice (public key), the same file paths
// Method (test/bench/README.md): a warm-up of each side, then BENCH_ROUNDS
// (default 3) alternating rounds (direct, jmp) of BENCH_SFTP_MIB (default
// 256); each ratio is the median of the per-round ratios jmp/direct.
// Then BENCH_SFTP_PARALLEL (default 4) uploads of 64 MiB at once through jmp-sftp:
// (peak RSS − RSS before) / transfers = rss_per_transfer_mb.
// Goals: upload and download ratio ≥ 0.8, rss_per_transfer_mb ≤ 8. Last line:
//   {"bench":"sftp-throughput","upload_ratio":…,"download_ratio":…,"upload_mbps":…,"download_mbps":…,"rss_per_transfer_mb":…}
import { randomBytes } from 'node:crypto';
import { openSync, rmSync, statSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allowPublicKeyLogin, clientKey } from '../../e2e/helpers.js';
import { opensshOptions, run, startSftpStack, type SftpStack } from '../../sftp/stack.js';
import { alternate, goal, median, medianRatio, result, roundCount, round3, rssMb } from '../lib/method.js';

const BENCH = 'sftp-throughput';
const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env.BENCH_SFTP_MIB ?? 256);
const PARALLEL = Number(process.env.BENCH_SFTP_PARALLEL ?? 4);
const log = (m: string): void => void process.stderr.write(`${BENCH}: ${m}\n`);

interface Figure {
  up: number;
  down: number;
}

function makeFile(path: string, mib: number): void {
  const fd = openSync(path, 'w');
  const chunk = randomBytes(MIB);
  for (let i = 0; i < mib; i++) writeSync(fd, chunk);
  closeSync(fd);
}

async function timed(what: string, args: string[], batch: string, lines: string[]): Promise<number> {
  writeFileSync(batch, `${lines.join('\n')}\n`);
  const t0 = performance.now();
  // The destination is the last argument; the options come before it.
  const r = await run('sftp', [...args.slice(0, -1), '-b', batch, args.at(-1)!], { timeoutMs: 300_000 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${what}: sftp exited ${r.status}: ${r.stderr}`);
  return s;
}

async function main(): Promise<void> {
  const key = clientKey('jmp-bench-sftp-');
  let s: SftpStack | undefined;
  try {
    s = await startSftpStack({
      hosts: ['h1'],
      key,
      prepare: (h) => allowPublicKeyLogin(h, 'alice', key.publicKey.line),
    });
    const h1 = s.stack.lab.host('h1');
    const src = join(s.dir, 'src.bin');
    const warm = join(s.dir, 'warm.bin');
    makeFile(src, SIZE_MIB);
    makeFile(warm, Math.min(64, SIZE_MIB));
    const directKh = join(s.dir, 'known_hosts_h1');
    writeFileSync(directKh, `${h1.knownHostsLine}\n`);
    const jmpArgs = [...opensshOptions(s), '-P', String(s.sftp.port), 'alice@127.0.0.1'];
    const directArgs = [...opensshOptions(s, directKh), 'alice@' + h1.address];
    const side = (name: string, args: string[], prefix: string) => ({
      name,
      run: async (round: number): Promise<Figure> => {
        const file = round === 0 ? warm : src;
        const mib = statSync(file).size / MIB;
        const batch = join(s!.dir, `${name}.batch`);
        const down = join(s!.dir, `${name}.down`);
        const up = await timed(`${name} upload`, args, batch, [`put ${file} ${prefix}/tmp/bench-${name}.bin`]);
        const dn = await timed(`${name} download`, args, batch, [`get ${prefix}/tmp/bench-${name}.bin ${down}`]);
        rmSync(down, { force: true });
        return { up: mib / up, down: mib / dn };
      },
    });
    const rounds = await alternate<Figure, Figure>({
      bench: BENCH,
      rounds: roundCount(3),
      a: side('direct', directArgs, ''),
      b: side('jmp', jmpArgs, '/h1'),
      describe: (f) => `upload ${f.up.toFixed(1)} MiB/s, download ${f.down.toFixed(1)} MiB/s`,
    });
    const uploadRatio = medianRatio(
      rounds,
      (b) => b.up,
      (a) => a.up,
    );
    const downloadRatio = medianRatio(
      rounds,
      (b) => b.down,
      (a) => a.down,
    );

    // RSS per active transfer: PARALLEL uploads at once, RSS sampled every 50 ms.
    const pid = s.sftp.proc.pid!;
    const before = rssMb(pid);
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 50);
    await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        timed(`parallel ${i}`, jmpArgs, join(s!.dir, `p${i}.batch`), [`put ${warm} /h1/tmp/bench-p${i}.bin`]),
      ),
    );
    clearInterval(sampler);
    const rssPerTransfer = round3((peak - before) / PARALLEL);
    log(`RSS ${before} MB before, ${peak} MB at the peak of ${PARALLEL} uploads at once`);

    const fig = {
      upload_ratio: uploadRatio,
      download_ratio: downloadRatio,
      upload_mbps: round3(median(rounds.b.map((f) => f.up)) * 1.048576),
      download_mbps: round3(median(rounds.b.map((f) => f.down)) * 1.048576),
      direct_upload_mbps: round3(median(rounds.a.map((f) => f.up)) * 1.048576),
      direct_download_mbps: round3(median(rounds.a.map((f) => f.down)) * 1.048576),
      rss_per_transfer_mb: rssPerTransfer,
      size_mib: SIZE_MIB,
      rounds: rounds.rounds,
    };
    goal(BENCH, 'upload_ratio', uploadRatio, uploadRatio >= 0.8, '≥ 0.8');
    goal(BENCH, 'download_ratio', downloadRatio, downloadRatio >= 0.8, '≥ 0.8');
    goal(BENCH, 'rss_per_transfer_mb', rssPerTransfer, rssPerTransfer <= 8, '≤ 8');
    result(BENCH, fig);
  } finally {
    await s?.close();
    rmSync(key.dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${BENCH}: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
