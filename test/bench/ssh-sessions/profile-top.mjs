// The top functions of a .cpuprofile by self time and by total (inclusive)
// time, as a share of the samples that were not idle:
//   node test/bench/ssh-sessions/profile-top.mjs FILE [N]
import { readFileSync } from 'node:fs';

const [file, n = '30'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top.mjs FILE [N]');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((nd) => [nd.id, nd]));
const parent = new Map();
for (const nd of profile.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const name = (nd) => {
  const f = nd.callFrame;
  const url = f.url.replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
};
const self = new Map();
const total = new Map();
let busy = 0;
for (const [id, count] of hits) {
  const nd = nodes.get(id);
  if (nd.callFrame.functionName === '(idle)') continue;
  busy += count;
  const k = name(nd);
  self.set(k, (self.get(k) ?? 0) + count);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const key = name(nodes.get(cur));
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + count);
  }
}
const show = (title, m) => {
  process.stdout.write(`${title} (${busy} busy samples)\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(n)))
    process.stdout.write(`${((v / busy) * 100).toFixed(1).padStart(6)}%  ${k}\n`);
};
show('self', self);
show('total', total);
