// Preloaded into jmp-ssh by the ssh-sessions benchmark (node --import): every
// 500 ms appends one JSON line to $BENCH_LOOP_MONITOR_FILE with the event
// loop's delay (max, p99) and the garbage collections longer than 10 ms since
// the previous line, so an echo tail can be told apart from jmp-ssh's own
// stalls and GC pauses. Changes nothing in jmp-ssh itself.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.BENCH_LOOP_MONITOR_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  let gcs = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.duration > 10) gcs.push(+e.duration.toFixed(1));
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), maxMs: +(h.max / 1e6).toFixed(1), p99Ms: +(h.percentile(99) / 1e6).toFixed(1), gcMs: gcs })}\n`);
    h.reset();
    gcs = [];
  }, 500).unref();
}
