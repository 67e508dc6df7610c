// Child process for crash.test.ts: records a session forever, printing the
// number of each output event after handing it to the recorder, until killed.
import { createRecordings } from '../src/index.js';

const [dir, flushMs] = process.argv.slice(2);
const recordings = createRecordings({ dir: dir!, flushMs: Number(flushMs) });
const rec = recordings.start({
  sessionId: 'crash',
  user: 'alice',
  host: 'web-01',
  width: 80,
  height: 24,
  term: 'xterm',
  startedAt: new Date('2025-03-04T00:00:00Z'),
});
let n = 0;
setInterval(() => {
  n++;
  rec.output(Buffer.from(`line ${n}\r\n`));
  process.stdout.write(`${n}\n`);
}, 3);
