// agent-decide baseline: the smallest v1 server (one line in, `v1 allow` out,
// one request per connection), so the bench can tell what the socket round
// trip itself costs. Usage: node --import tsx baseline-server.ts SOCKET
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { decodeRequest, encodeResponse, readLine } from '../../../agent/src/protocol/line.js';

const path = process.argv[2]!;
rmSync(path, { force: true });
const answer = encodeResponse({ status: 'allow', reason: 'baseline', mode: 'online' });
const server = createServer((s) => {
  let buffered: Buffer = Buffer.alloc(0);
  s.on('data', (chunk: Buffer) => {
    const r = readLine(buffered, chunk);
    if (r.kind === 'need_more') {
      buffered = r.buffered;
      return;
    }
    if (r.kind === 'line') decodeRequest(r.line);
    s.end(answer);
  });
  s.on('error', () => {});
});
server.listen(path, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
