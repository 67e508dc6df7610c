import { createDb } from './src/db/knex.ts';
import { loadFacts } from './src/access/facts.ts';
import { preparedQuery } from './src/db/prepared.ts';
const db = createDb(process.argv[2]!, { min: 0, max: Number(process.argv[3] ?? 10) });
async function load(fn: (i: number) => Promise<unknown>, label: string) {
  let n = 0; const end = Date.now() + 3000;
  await Promise.all(Array.from({ length: 50 }, async () => { while (Date.now() < end) { await fn(n++); } }));
  console.log(label, Math.round(n / 3), 'per s');
}
await load((i) => preparedQuery(db, 'one', 'SELECT 1', []), 'SELECT 1 prepared');
await load((i) => db.raw('SELECT 1'), 'SELECT 1 knex.raw');
await load((i) => loadFacts(db, `user${1 + (i * 7919) % 5000}`, 1 + (i * 31) % 10000), 'loadFacts');
await db.destroy();
