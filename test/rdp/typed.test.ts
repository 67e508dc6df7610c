// Windows desktops, the typed-credentials path, against the real thing: a lab
// host running xrdp whose sesman checks a local password account (the
// stand-in for a Windows server), real guacd, real jmp-api, jmp-rdp. The
// password travels page → jmp-rdp → guacd → xrdp only.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Lab } from '../lab/lab.js';
import { xrdpLogs } from '../lab/xrdp.js';
import type { TestApi } from '../../services/api/test/harness.js';
import { openDesktop, instr, sleep, type RunningRdp } from '../../services/rdp/test/stack.js';
import type { RunningGuacd } from './guacd.js';
import { ACCOUNT, startWindowsLab, type WindowsLab } from './windows-lab.js';

let w: WindowsLab;
let lab: Lab, api: TestApi, guacd: RunningGuacd, rdp: RunningRdp, recordings: string;
const work = mkdtempSync(join(tmpdir(), 'jmp-rdp-typed-'));
const WRONG = 'not-the-password-9';

before(async () => {
  w = await startWindowsLab(work);
  ({ lab, api, guacd, rdp, recordings } = w);
});
after(async () => {
  await w?.close();
});

/** Opens a desktop, types the credentials, collects what guacd sends for `ms`. */
async function login(password: string, ms = 6000) {
  const p = await w.person();
  const d = openDesktop(rdp.url, await p.token(), p.cookie);
  assert.equal(await d.status, 101);
  await d.waitFor(/^0\.,/);
  d.ws.send(instr('jmp-login', ACCOUNT.name, '', password));
  await d.waitFor(/(^|;)3\.img,/, 15_000);
  await sleep(ms);
  d.ws.close();
  await d.closed;
  return d;
}

const sesmanLog = () => readFileSync(xrdpLogs(lab.host('w1')).sesman, 'utf8');

describe('typed credentials against xrdp with a local account', () => {
  test('the right password logs in: sesman starts a session for the account', async () => {
    const before = sesmanLog().length;
    const d = await login(ACCOUNT.password);
    const log = sesmanLog().slice(before);
    assert.match(log, new RegExp(`(authentication|session).*${ACCOUNT.name}|${ACCOUNT.name}.*(session|started)`, 'i'));
    assert.doesNotMatch(log, /AUTHFAIL/i);
    const drawn = d.messages.join('').match(/(^|;)3\.img,/g)?.length ?? 0;
    assert.ok(drawn >= 2, `the desktop was drawn (${drawn} images, ${d.messages.join('').length} characters)`);
  });

  test('a wrong password is refused by sesman (xrdp shows its login failure in the stream)', async () => {
    const before = sesmanLog().length;
    await login(WRONG, 5000);
    const log = sesmanLog().slice(before);
    assert.match(log, /AUTHFAIL|authentication failed|login failed/i, log);
  });

  test('the password is in no log, recording or database row', async () => {
    // Each ended desktop's recording goes to the store before its row is closed with the URI.
    for (let i = 0; i < 200; i++) {
      const stored = await api.db('sessions').where({ protocol: 'rdp' }).whereNotNull('recording_uri');
      if (stored.length >= 2) break;
      await sleep(100);
    }
    const places: Array<[string, string]> = [
      ['jmp-rdp log', rdp.logs.join('')],
      ['guacd log', guacd.log()],
      ['xrdp log', readFileSync(xrdpLogs(lab.host('w1')).xrdp, 'utf8')],
      ['sesman log', sesmanLog()],
      ['database', JSON.stringify([await api.db('sessions'), await api.db('audit_events')])],
    ];
    const parts = readdirSync(rdp.storeDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.guac.gz'),
    );
    assert.ok(parts.length >= 2, `stored recordings: ${parts.join(', ')}`);
    for (const f of parts)
      places.push([`recording ${f}`, gunzipSync(readFileSync(join(rdp.storeDir, f))).toString('latin1')]);
    assert.deepEqual(readdirSync(recordings), [], "guacd's files were moved into the store");
    for (const [where, text] of places) {
      for (const secret of [ACCOUNT.password, WRONG])
        assert.ok(
          !text.includes(secret) && !text.includes(Buffer.from(secret).toString('latin1')),
          `password in ${where}`,
        );
    }
  });

  test('the desktop is recorded into the store and its session row points at it; the recording has a duration', async () => {
    const d = await login(ACCOUNT.password, 3000);
    void d;
    const row = await (async () => {
      for (let i = 0; i < 100; i++) {
        const r = await api
          .db('sessions')
          .where({ protocol: 'rdp' })
          .whereNotNull('recording_uri')
          .orderBy('started_at', 'desc')
          .first();
        if (r) return r;
        await sleep(100);
      }
      throw new Error('no session row with a recording');
    })();
    const uri: string = row.recording_uri;
    assert.match(uri, /^file:\/\//);
    const prefix = fileURLToPath(uri);
    const dir = join(prefix, '..');
    const mine = readdirSync(dir).filter((f) => f.startsWith(`${row.id}.part-`));
    assert.ok(mine.length >= 1);
    const text = gunzipSync(readFileSync(join(dir, mine[0]!))).toString('utf8');
    const syncs = [...text.matchAll(/4\.sync,\d+\.(\d+)/g)].map((m) => Number(m[1]));
    assert.ok(syncs.length > 2, 'frames in the recording');
    assert.ok(syncs.at(-1)! - syncs[0]! > 0, 'duration > 0');
  });
});
