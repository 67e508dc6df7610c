// Micro-benchmark of the recorder (not a test): how much main-thread time the
// proxy's output() calls cost, and how long until everything is stored.
//   node --import tsx services/lib/recording/test/bench.ts [MiB] [text|zero]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRecordings } from '../src/index.js';

const mib = Number(process.argv[2] ?? 256);
const kind = process.argv[3] ?? 'text';
const dir = await mkdtemp(join(tmpdir(), 'jmp-rec-bench-'));
const r = createRecordings({
  dir,
  maxBytes: 4 * 1024 ** 3,
  partBytes: 64 * 1024 ** 2,
  ...(process.env.LEVEL ? { gzipLevel: Number(process.env.LEVEL) } : {}),
});
const rec = r.start({ sessionId: 'bench', user: 'a', host: 'h', width: 80, height: 24 });
const line = Buffer.from('\x1b[32mdrwxr-xr-x\x1b[0m  2 alice alice 4096 Jan 31 12:00 some-directory-name\r\n');
const chunk =
  kind === 'zero'
    ? Buffer.alloc(32 * 1024)
    : Buffer.concat(Array.from({ length: Math.ceil(32768 / line.length) }, () => line)).subarray(0, 32768);
const n = (mib * 1024 * 1024) / chunk.length;
let busy = 0;
const elu0 = performance.eventLoopUtilization();
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const a = performance.now();
  rec.output(chunk);
  busy += performance.now() - a;
  await new Promise((res) => setImmediate(res)); // one chunk per event-loop turn, as socket data arrives
}
const res = await rec.close('bench');
const total = performance.now() - t0;
const elu = performance.eventLoopUtilization(elu0);
process.stdout.write(
  JSON.stringify({
    bench: 'recording',
    kind,
    mib,
    output_calls_ms: Math.round(busy),
    total_ms: Math.round(total),
    mbps: Math.round(mib / (total / 1000)),
    main_thread_ms: Math.round(elu.active),
    compressed: res.bytes,
    parts: res.parts,
    complete: res.complete,
  }) + '\n',
);
await rm(dir, { recursive: true });
