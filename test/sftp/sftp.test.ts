// jmp-sftp end to end, against lab hosts with real sshd + pam_jmp + jmp-agent
// and a real jmp-api: OpenSSH sftp and scp (64 MiB up and down, SHA-256
// equal, the file is alice's, the audit's bytes and hash match), curl
// sftp:// and PuTTY's psftp, a host without a grant (refused, no ticket), a
// download-only host, legacy scp, hostile paths and handle floods, jmp-ssh's
// sftp subsystem, a jmp-sftp killed mid-transfer (incomplete in the audit),
// the S3 staging area /~staging/ against s3rver, a target killed mid-download
// and jmp-api cut off.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ssh2, { Client, type SFTPWrapper } from 'ssh2';
import { spawnSync } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import S3rver from 's3rver';
import { clientKey, knownHostsLine, until } from '../e2e/helpers.js';
import { opensshArgs } from '../bench/lib/openssh.js';
import { addService, addUser, webLogin } from '../../services/api/test/harness.js';
import { opensshOptions, run, sftpBatch, startJmpSftp, startSftpStack, type JmpSftp, type SftpStack } from './stack.js';

const MiB = 1024 * 1024;
let s: SftpStack;
let big: string;
let bigHash: string;
let aliceUid: string;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const dbRows = (where: Record<string, unknown>) => s.stack.api.db('file_operations').where(where).orderBy('at');

before(async () => {
  // h2: alice has no grant. h3: granted, in a download-only service.
  s = await startSftpStack({
    hosts: ['h1', 'h2', 'h3'],
    grants: ['h1', 'h3'],
    setup: async ({ api, hostIds, serviceId }) => {
      const { project_id } = await api.db('services').where({ id: serviceId }).first('project_id');
      const svc = await addService(api.db, project_id);
      await api.db('services').where({ id: svc.id }).update({ file_transfer: 'download' });
      await api.db('hosts').where({ id: hostIds.h3 }).update({ service_id: svc.id });
    },
  });
  big = join(s.dir, 'big.bin');
  const buf = Buffer.allocUnsafe(64 * MiB);
  for (let o = 0; o < buf.length; o += MiB) randomBytes(MiB).copy(buf, o);
  writeFileSync(big, buf);
  bigHash = createHash('sha256').update(buf).digest('hex');
  aliceUid = (await s.stack.lab.host('h1').exec(['id', '-u', 'alice'])).stdout.trim();
  assert.match(aliceUid, /^\d+$/);
});

after(async () => {
  await s?.close();
});

test(
  'OpenSSH sftp -b: / lists the granted hosts; 64 MiB up and down through /h1, SHA-256 equal, alice owns it, the audit matches',
  { timeout: 120_000 },
  async () => {
    const down = join(s.dir, 'down-sftp.bin');
    const r = await sftpBatch(s, [
      'ls -1 /',
      `put ${big} /h1/~/big.bin`,
      `get /h1/~/big.bin ${down}`,
      'cd /h1/~',
      'pwd',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const listed = r.stdout
      .split('\n')
      .filter((l) => /^\/?h\d$/.test(l.trim()))
      .map((l) => l.trim().replace(/^\//, ''));
    assert.deepEqual(listed, ['h1', 'h3'], `ls / shows the hosts alice may log in to:\n${r.stdout}`);
    assert.match(r.stdout, /Remote working directory: \/h1\/home\/alice/);
    assert.equal(sha256(down), bigHash);
    const st = await s.stack.lab.host('h1').exec(['stat', '-c', '%u %s', '/home/alice/big.bin']);
    assert.equal(st.stdout.trim(), `${aliceUid} ${64 * MiB}`);
    await until(
      'the transfers are in the audit',
      async () => (await dbRows({ path: '/h1/~/big.bin' })).length >= 2,
      15_000,
    );
    const [up, dl] = [
      (await dbRows({ path: '/h1/~/big.bin', operation: 'upload' }))[0],
      (await dbRows({ path: '/h1/~/big.bin', operation: 'download' }))[0],
    ];
    assert.equal(up.result, 'ok');
    assert.equal(Number(up.bytes_written), 64 * MiB);
    assert.equal(up.sha256, bigHash);
    assert.equal(up.username, 'alice');
    assert.equal(up.host, 'h1');
    assert.equal(dl.result, 'ok');
    assert.equal(Number(dl.bytes_read), 64 * MiB);
    const session = await s.stack.api.db('sessions').where({ id: up.session_id }).first();
    assert.equal(session.protocol, 'sftp');
  },
);

test('OpenSSH scp (SFTP mode): 64 MiB up and down, SHA-256 equal, alice owns it', { timeout: 120_000 }, async () => {
  const down = join(s.dir, 'down-scp.bin');
  const opts = [...opensshOptions(s), '-P', String(s.sftp.port)];
  const up = await run('scp', [...opts, big, 'alice@127.0.0.1:/h1/tmp/scp.bin']);
  assert.equal(up.status, 0, up.stderr);
  const dl = await run('scp', [...opts, 'alice@127.0.0.1:/h1/tmp/scp.bin', down]);
  assert.equal(dl.status, 0, dl.stderr);
  assert.equal(sha256(down), bigHash);
  const st = await s.stack.lab.host('h1').exec(['stat', '-c', '%u', '/tmp/scp.bin']);
  assert.equal(st.stdout.trim(), aliceUid);
  await until(
    'the scp upload is in the audit',
    async () => (await dbRows({ path: '/h1/tmp/scp.bin', operation: 'upload' })).length === 1,
    15_000,
  );
  const [row] = await dbRows({ path: '/h1/tmp/scp.bin', operation: 'upload' });
  assert.equal(row.sha256, bigHash);
});

test('legacy scp -O gets one clear line saying to drop -O', { timeout: 30_000 }, async () => {
  const r = await run('scp', [
    '-O',
    ...opensshOptions(s),
    '-P',
    String(s.sftp.port),
    '/etc/hostname',
    'alice@127.0.0.1:/h1/tmp/x',
  ]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /jmp: legacy scp \(scp -O\) is not supported: run scp without -O/);
});

test('curl sftp:// (libssh2): one upload, one download', { timeout: 60_000 }, async () => {
  const hostKey = ssh2.utils.parseKey(readFileSync(s.sftp.hostKeyPath));
  if (hostKey instanceof Error) throw hostKey;
  const pin = createHash('sha256').update(hostKey.getPublicSSH()).digest('base64');
  writeFileSync(`${s.keyFile}.pub`, `${readFileSync(join(s.dir, 'public_key'), 'utf8')}`);
  const small = join(s.dir, 'curl-up.bin');
  writeFileSync(small, randomBytes(3 * MiB + 17));
  const base = ['-sS', '--key', s.keyFile, '--pubkey', `${s.keyFile}.pub`, '--hostpubsha256', pin];
  const url = `sftp://alice@127.0.0.1:${s.sftp.port}/h1/tmp/curl.bin`;
  const up = await run('curl', [...base, '-T', small, url]);
  assert.equal(up.status, 0, up.stderr);
  const down = join(s.dir, 'curl-down.bin');
  const dl = await run('curl', [...base, '-o', down, url]);
  assert.equal(dl.status, 0, dl.stderr);
  assert.equal(sha256(down), sha256(small));
});

test("PuTTY's psftp: one upload, one download", { timeout: 60_000 }, async () => {
  const ppk = join(s.dir, 'key.ppk');
  const conv = await run('puttygen', [s.keyFile, '-O', 'private', '-o', ppk]);
  assert.equal(conv.status, 0, conv.stderr);
  const hostKey = ssh2.utils.parseKey(readFileSync(s.sftp.hostKeyPath));
  if (hostKey instanceof Error) throw hostKey;
  const fp = `SHA256:${createHash('sha256').update(hostKey.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
  const small = join(s.dir, 'psftp-up.bin');
  const down = join(s.dir, 'psftp-down.bin');
  writeFileSync(small, randomBytes(2 * MiB + 5));
  const batch = join(s.dir, 'psftp.batch');
  writeFileSync(batch, `cd /h1/tmp\nput ${small} psftp.bin\nget psftp.bin ${down}\nquit\n`);
  const r = await run('psftp', [
    '-batch',
    '-P',
    String(s.sftp.port),
    '-i',
    ppk,
    '-hostkey',
    fp,
    '-b',
    batch,
    'alice@127.0.0.1',
  ]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(sha256(down), sha256(small));
});

test(
  'paramiko SFTP (Ansible, Fabric): list the hosts, put, stat, get, rename, remove',
  { timeout: 60_000 },
  async () => {
    const up = join(s.dir, 'paramiko-up.bin');
    const down = join(s.dir, 'paramiko-down.bin');
    writeFileSync(up, randomBytes(MiB + 7));
    const py = [
      'import paramiko, sys',
      'c = paramiko.SSHClient()',
      'c.set_missing_host_key_policy(paramiko.AutoAddPolicy())',
      `c.connect('127.0.0.1', port=${s.sftp.port}, username='alice', key_filename=${JSON.stringify(s.keyFile)}, look_for_keys=False, allow_agent=False, timeout=15)`,
      'f = c.open_sftp()',
      "print('hosts', sorted(f.listdir('/')))",
      `f.put(${JSON.stringify(up)}, '/h1/tmp/paramiko.bin')`,
      "print('size', f.stat('/h1/tmp/paramiko.bin').st_size)",
      "f.rename('/h1/tmp/paramiko.bin', '/h1/tmp/paramiko2.bin')",
      `f.get('/h1/tmp/paramiko2.bin', ${JSON.stringify(down)})`,
      "f.remove('/h1/tmp/paramiko2.bin')",
      "print('gone', 'paramiko2.bin' not in f.listdir('/h1/tmp'))",
      'c.close()',
    ].join('\n');
    const r = await run('/usr/bin/python3', ['-c', py], { timeoutMs: 45_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr.slice(-2000));
    assert.match(r.stdout, /hosts \['h1', 'h3'\]/, 'her granted hosts only');
    assert.match(r.stdout, new RegExp(`size ${MiB + 7}`));
    assert.match(r.stdout, /gone True/);
    assert.equal(sha256(down), sha256(up));
  },
);

/** An ssh2 SFTP client logged in to jmp-sftp with alice's key. */
function sftpClient(port = s.sftp.port): Promise<{ c: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => c.sftp((err, sftp) => (err ? reject(err) : resolve({ c, sftp }))));
    c.on('error', reject);
    c.connect({ host: '127.0.0.1', port, username: 'alice', privateKey: readFileSync(s.keyFile) });
  });
}
const status = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: 0, message: 'ok' }),
    (e: Error & { code?: number }) => ({ code: e.code ?? -1, message: e.message }),
  );
const promisify =
  <A extends unknown[], T>(f: (...a: [...A, (err: Error | undefined, v: T) => void]) => void) =>
  (...a: A) =>
    new Promise<T>((res, rej) => f(...a, (err, v) => (err ? rej(err) : res(v))));

test(
  'a host without a grant: permission denied with the reason, and no ticket minted for it',
  { timeout: 60_000 },
  async () => {
    const r = await sftpBatch(s, [`-put /etc/hostname /h2/tmp/x`]);
    assert.match(r.stderr, /Permission denied/);
    const { c, sftp } = await sftpClient();
    try {
      const stat = promisify<[string], unknown>(sftp.stat.bind(sftp));
      const open = promisify<[string, string], Buffer>(sftp.open.bind(sftp) as never);
      for (const st of [await status(stat('/h2/etc/hostname')), await status(open('/h2/tmp/y', 'w'))]) {
        assert.equal(st.code, 3);
        assert.match(st.message, /alice may not log in to h2/);
      }
      assert.equal((await status(stat('/h2'))).code, 2, '/h2 does not exist in her tree');
    } finally {
      c.end();
    }
    const tickets = await s.stack.api
      .db('audit_events')
      .whereIn('action', ['ticket.issued', 'ticket.denied'])
      .where({ target: 'alice@h2' });
    assert.equal(tickets.length, 0);
    assert.equal((await s.stack.api.db('sessions').where({ host_id: s.stack.hostIds.h2 })).length, 0);
    await until(
      'the refusals are audited',
      async () => (await dbRows({ host: 'h2', result: 'refused' })).length >= 2,
      15_000,
    );
  },
);

test(
  'a download-only host: upload refused with the reason (and audited), download works',
  { timeout: 60_000 },
  async () => {
    const r = await sftpBatch(s, [
      '-put /etc/hostname /h3/tmp/up',
      `get /h3/etc/hostname ${join(s.dir, 'h3-hostname')}`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Permission denied/);
    assert.equal(readFileSync(join(s.dir, 'h3-hostname'), 'utf8').trim(), 'h3');
    const { c, sftp } = await sftpClient();
    try {
      const open = promisify<[string, string], Buffer>(sftp.open.bind(sftp) as never);
      const st = await status(open('/h3/tmp/up2', 'w'));
      assert.equal(st.code, 3);
      assert.match(st.message, /h3 is download-only: its service allows no uploads or changes/);
    } finally {
      c.end();
    }
    await until(
      'the refusals are audited',
      async () => (await dbRows({ host: 'h3', operation: 'upload', result: 'refused' })).length === 2,
      15_000,
    );
    assert.equal((await s.stack.lab.host('h3').exec(['ls', '/tmp'])).stdout.includes('up'), false);
  },
);

test(
  'hostile input: NUL bytes, `..` out of a host, writes at / and /<host>, a flood of handles — each a clear status',
  { timeout: 60_000 },
  async () => {
    const { c, sftp } = await sftpClient();
    try {
      const stat = promisify<[string], unknown>(sftp.stat.bind(sftp));
      const mkdir = promisify<[string], unknown>(sftp.mkdir.bind(sftp) as never);
      const open = promisify<[string, string], Buffer>(sftp.open.bind(sftp) as never);
      const nul = await status(stat('/h1/etc\0/../../h2'));
      assert.equal(nul.code, 5);
      assert.match(nul.message, /NUL/);
      const escape = await status(stat('/h1/tmp/../../h2/etc/passwd'));
      assert.equal(escape.code, 3);
      assert.match(escape.message, /may not log in to h2/);
      assert.match((await status(mkdir('/newdir'))).message, /list of hosts and cannot be changed/);
      assert.match((await status(open('/h1', 'w'))).message, /cannot be changed/);
      assert.match((await status(stat('/h1/~bob/x'))).message, /~bob paths are not supported/);
      // 300 opens against a cap of 256: the rest are refused with a sentence, and nothing else breaks.
      const results = await Promise.all(Array.from({ length: 300 }, () => status(open('/h1/etc/hostname', 'r'))));
      assert.equal(results.filter((r) => r.code === 0).length, 256);
      assert.match(
        results.find((r) => r.code !== 0)!.message,
        /too many open files and directories in this session \(limit 256\)/,
      );
      assert.equal((await status(stat('/h1/etc/hostname'))).code, 0);
    } finally {
      c.end();
    }
  },
);

test("jmp-ssh's sftp subsystem serves the same tree (one implementation, two doors)", { timeout: 90_000 }, async () => {
  const { startJmpSshProcess } = await import('../e2e/helpers.js');
  process.env.BENCH_JMP_SSH ??= 'services/ssh/src/main.ts';
  const dir = join(s.dir, 'jmp-ssh');
  mkdirSync(dir, { recursive: true });
  const ssh = await startJmpSshProcess(s.stack.api, dir, { JMP_SFTP_SPOOL_DIR: join(dir, 'sftp-spool') });
  try {
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `${knownHostsLine(ssh.port, readFileSync(ssh.hostKeyPath))}\n`);
    const batch = join(dir, 'batch');
    writeFileSync(batch, `ls -1 /\nput /etc/hostname /h1/tmp/via-2200\n`);
    const r = await run('sftp', [...opensshOptions(s, kh), '-P', String(ssh.port), '-b', batch, 'alice@127.0.0.1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\/h1$/m);
    const st = await s.stack.lab.host('h1').exec(['stat', '-c', '%u', '/tmp/via-2200']);
    assert.equal(st.stdout.trim(), aliceUid);
    await until('the upload is audited', async () => (await dbRows({ path: '/h1/tmp/via-2200' })).length === 1, 15_000);
  } finally {
    ssh.proc.kill('SIGTERM');
  }
});

test(
  'an idle target connection is closed and its session ended; the next access logs in anew',
  { timeout: 60_000 },
  async () => {
    const dir = join(s.dir, 'idle');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'host_key'), readFileSync(s.sftp.hostKeyPath), { mode: 0o600 });
    const idle = await startJmpSftp(s.stack, dir, { JMP_SFTP_TARGET_IDLE_SECONDS: '1' });
    try {
      const { c, sftp } = await sftpClient(idle.port);
      try {
        const stat = promisify<[string], unknown>(sftp.stat.bind(sftp));
        const t0 = new Date();
        const mine = () => s.stack.api.db('sessions').where({ protocol: 'sftp' }).where('started_at', '>=', t0);
        assert.equal((await status(stat('/h1/etc/hostname'))).code, 0);
        await until(
          'the idle target session ended',
          async () => (await mine().where({ end_reason: 'idle' }).whereNotNull('ended_at')).length === 1,
          15_000,
        );
        // The person's own connection stays; the next access opens a new target session.
        assert.equal((await status(stat('/h1/etc/hostname'))).code, 0);
        assert.equal((await mine()).length, 2);
      } finally {
        c.end();
      }
    } finally {
      await idle.stop();
    }
  },
);

test(
  'a target session stays live while open (heartbeat) and an administrator can terminate it within 2 s',
  { timeout: 60_000 },
  async () => {
    const { c, sftp } = await sftpClient();
    try {
      const open = promisify<[string, string], Buffer>(sftp.open.bind(sftp) as never);
      const stat = promisify<[string], unknown>(sftp.stat.bind(sftp));
      const t0 = new Date();
      await open('/h1/etc/hostname', 'r'); // an open handle: never idle
      const row = await until(
        'the sftp target session',
        () => s.stack.api.db('sessions').where({ protocol: 'sftp' }).where('started_at', '>=', t0).first('id'),
        10_000,
      );
      const admin = { auth: `Bearer ${s.stack.api.serviceToken('admin')}` };
      const auditor = await addUser(s.stack.api.db, { is_auditor: true, password: 'correct horse 9' });
      const { cookie } = await webLogin(s.stack.api, auditor.username, 'correct horse 9');
      // Past the live registry's 10 s: only the heartbeat keeps it live.
      await new Promise((r) => setTimeout(r, 11_000));
      const seen = await s.stack.api.call('GET', `/v1/sessions/${row.id}`, { headers: cookie });
      assert.equal(seen.status, 200);
      assert.equal((seen.body as { session: { live: boolean } }).session.live, true, 'live after 11 s');
      const t1 = Date.now();
      const r = await s.stack.api.call('POST', `/v1/sessions/${row.id}/terminate`, {
        ...admin,
        body: { reason: 'incident 9' },
      });
      assert.equal(r.status, 202);
      const ended = await until(
        'the session ended',
        () => s.stack.api.db('sessions').where({ id: row.id }).whereNotNull('ended_at').first('end_reason'),
        5_000,
      );
      assert.equal(ended.end_reason, 'terminated');
      assert.ok(Date.now() - t1 < 2500, `ended after ${Date.now() - t1} ms`);
      // The person's connection stays; the next access logs in anew.
      assert.equal((await status(stat('/h1/etc/hostname'))).code, 0);
    } finally {
      c.end();
    }
  },
);

test(
  'jmp-sftp killed mid-transfer: the client sees an error; after the restart the audit shows the transfer incomplete',
  { timeout: 120_000 },
  async () => {
    const dir = join(s.dir, 'killed');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'host_key'), readFileSync(s.sftp.hostKeyPath), { mode: 0o600 });
    const victim = await startJmpSftp(s.stack, dir);
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `${knownHostsLine(victim.port, readFileSync(victim.hostKeyPath))}\n`);
    const batch = join(dir, 'batch');
    writeFileSync(batch, `put ${big} /h1/tmp/killed.bin\n`);
    // 16 Mbit/s: the 64 MiB upload is still running when the process dies.
    const client = run('sftp', [
      ...opensshOptions(s, kh),
      '-l',
      '16384',
      '-P',
      String(victim.port),
      '-b',
      batch,
      'alice@127.0.0.1',
    ]);
    const open = join(victim.spoolDir, 'jmp-sftp', 'open');
    await until('the upload is under way', () => existsSync(open) && readdirSync(open).length === 1, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    await victim.stop('SIGKILL');
    const r = await client;
    assert.notEqual(r.status, 0, 'the client sees the transfer fail');
    const again = await startJmpSftp(s.stack, dir, {}, victim.port);
    try {
      await until(
        'the cut transfer is in the audit',
        async () => (await dbRows({ path: '/h1/tmp/killed.bin' })).length === 1,
        20_000,
      );
      const [row] = await dbRows({ path: '/h1/tmp/killed.bin' });
      assert.equal(row.result, 'incomplete');
      assert.equal(row.sha256, null);
      assert.equal(readdirSync(open).length, 0);
    } finally {
      await again.stop();
    }
  },
);

test(
  '/~staging/ in S3 (s3rver): up through one instance, down through another, SHA-256 equal; on to /h1 by get+put; rename, remove; a non-sequential write refused; bob sees none of it; audited as ~staging',
  { timeout: 120_000 },
  async () => {
    const dir = join(s.dir, 'staging');
    mkdirSync(join(dir, 's3'), { recursive: true });
    const s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: join(dir, 's3'),
      configureBuckets: [{ name: 'stage' }],
    });
    const addr = await s3.run();
    const env = {
      JMP_SFTP_STAGING_BUCKET: 'stage',
      JMP_SFTP_STAGING_PART_MIB: '5',
      JMP_RECORDING_S3_ENDPOINT: `http://127.0.0.1:${addr.port}`,
      JMP_RECORDING_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
    // Two instances with no state of their own: what one uploads, the other serves.
    const instances = [];
    for (const name of ['a', 'b']) {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'host_key'), readFileSync(s.sftp.hostKeyPath), { mode: 0o600 });
      instances.push(await startJmpSftp(s.stack, d, env));
    }
    const [a, b] = instances as [JmpSftp, JmpSftp];
    try {
      const kh = join(dir, 'known_hosts');
      writeFileSync(kh, [a, b].map((i) => knownHostsLine(i.port, readFileSync(i.hostKeyPath))).join('\n') + '\n');
      const batch = (port: number, lines: string[]) => {
        const f = join(dir, `batch-${port}`);
        writeFileSync(f, `${lines.join('\n')}\n`);
        return run('sftp', [...opensshOptions(s, kh), '-P', String(port), '-b', f, 'alice@127.0.0.1']);
      };
      // 12 MiB: three multipart pieces of 5 MiB (the last one shorter).
      const file = join(dir, 'up.bin');
      writeFileSync(file, readFileSync(big).subarray(0, 12 * MiB));
      const up = await batch(a.port, ['ls -1 /', 'mkdir /~staging/drop', `put ${file} /~staging/drop/up.bin`]);
      assert.equal(up.status, 0, up.stderr);
      assert.match(up.stdout, /~staging/, '/ lists the staging area');
      const down = join(dir, 'down.bin');
      const back = join(dir, 'via-h1.bin');
      const r = await batch(b.port, [
        'ls -l /~staging/drop',
        `get /~staging/drop/up.bin ${down}`,
        `put ${down} /h1/tmp/from-staging.bin`,
        `get /h1/tmp/from-staging.bin ${back}`,
        'rename /~staging/drop/up.bin /~staging/drop/renamed.bin',
        'ls -1 /~staging/drop',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /up\.bin/);
      assert.equal(sha256(down), sha256(file));
      assert.equal(sha256(back), sha256(file));
      assert.match(r.stdout.split('ls -1 /~staging/drop').at(-1)!, /renamed\.bin/);
      assert.doesNotMatch(r.stdout.split('ls -1 /~staging/drop').at(-1)!, /up\.bin/);
      // Stored under the person's prefix.
      const listed = await fetch(`http://127.0.0.1:${addr.port}/stage?list-type=2&prefix=staging/alice/`);
      assert.match(await listed.text(), /staging\/alice\/drop\/renamed\.bin/);

      // Writes must be sequential: a write at offset 100 first is refused with the reason, and nothing is stored.
      const { c, sftp } = await sftpClient(b.port);
      try {
        const open = (p: string) =>
          new Promise<Buffer>((res, rej) => sftp.open(p, 'w', (e, h) => (e ? rej(e) : res(h))));
        const write = (h: Buffer, at: number) =>
          new Promise<void>((res, rej) => sftp.write(h, Buffer.alloc(10), 0, 10, at, (e) => (e ? rej(e) : res())));
        const close = (h: Buffer) => new Promise<void>((res, rej) => sftp.close(h, (e) => (e ? rej(e) : res())));
        const stat = promisify<[string], unknown>(sftp.stat.bind(sftp));
        const h = await open('/~staging/holes.bin');
        const w = await status(write(h, 100));
        assert.equal(w.code, 8, 'SSH_FX_OP_UNSUPPORTED');
        assert.match(w.message, /must be sequential/);
        assert.notEqual((await status(close(h))).code, 0);
        assert.equal((await status(stat('/~staging/holes.bin'))).code, 2, 'no such file');
      } finally {
        c.end();
      }

      // bob has an area of his own: alice's files are not in it.
      const bob = clientKey('jmp-sftp-bob-');
      const bobId = await s.stack.addPerson({ username: 'bob', right: 'login', host: 'h1' });
      await s.stack.api.db('user_ssh_keys').insert({
        user_id: bobId,
        public_key: bob.publicKey.line,
        fingerprint: bob.publicKey.fingerprint,
      });
      const seen = await run(
        'sftp',
        [...opensshArgs(bob.keyFile, kh).slice(1), '-P', String(a.port), '-b', '-', 'bob@127.0.0.1'],
        { input: '-ls -1 /~staging\n-ls /~staging/drop/renamed.bin\n-get /~staging/drop/renamed.bin /dev/null\n' },
      );
      const answers = seen.stdout.split('\n').filter((l) => !l.startsWith('sftp>'));
      assert.equal(seen.stdout.split('\n').filter((l) => l.startsWith('sftp>')).length, 3, seen.stdout);
      assert.doesNotMatch(answers.join('\n'), /drop|renamed/, seen.stdout);
      assert.match(seen.stderr, /not found|No such file/i, seen.stderr);
      spawnSync('rm', ['-rf', bob.dir]);

      const rm = await batch(a.port, ['rm /~staging/drop/renamed.bin', 'rmdir /~staging/drop', 'ls -1 /~staging']);
      assert.equal(rm.status, 0, rm.stderr);
      assert.doesNotMatch(rm.stdout.split('sftp> ls -1 /~staging\n').at(-1)!, /drop/, rm.stdout);

      // Each instance sends its own batches: wait for the last operation of both (remove on a, holes.bin on b).
      await until(
        'the staging operations of both instances are in the audit',
        async () =>
          (await dbRows({ host: '~staging', operation: 'remove' })).length === 1 &&
          (await dbRows({ host: '~staging', path: '/~staging/holes.bin' })).length > 0,
        15_000,
      );
      const [upRow] = await dbRows({ host: '~staging', operation: 'upload', path: '/~staging/drop/up.bin' });
      assert.equal(upRow.result, 'ok');
      assert.equal(Number(upRow.bytes_written), 12 * MiB);
      assert.equal(upRow.sha256, sha256(file));
      const [dlRow] = await dbRows({ host: '~staging', operation: 'download' });
      assert.equal(Number(dlRow.bytes_read), 12 * MiB);
      assert.equal((await dbRows({ host: '~staging', operation: 'rename', result: 'ok' })).length, 1);
      const [holes] = await dbRows({ host: '~staging', path: '/~staging/holes.bin' });
      assert.equal(holes.result, 'failed');
      assert.match(holes.message, /sequential/);
    } finally {
      await a.stop();
      await b.stop();
      await s3.close();
    }
  },
);

test(
  'the target dies mid-download: the next read answers connection lost with the reason, the audit says incomplete',
  { timeout: 60_000 },
  async () => {
    const h1 = s.stack.lab.host('h1');
    await h1.exec('head -c 16777216 /dev/zero > /tmp/dying.bin && chmod 644 /tmp/dying.bin');
    const { c, sftp } = await sftpClient();
    try {
      const open = promisify<[string, string], Buffer>(sftp.open.bind(sftp) as never);
      const read = (h: Buffer, at: number) =>
        new Promise<number>((res, rej) =>
          sftp.read(h, Buffer.alloc(32768), 0, 32768, at, (e, n) => (e ? rej(e) : res(n))),
        );
      const close = (h: Buffer) => new Promise<void>((res, rej) => sftp.close(h, (e) => (e ? rej(e) : res())));
      const h = await open('/h1/tmp/dying.bin', 'r');
      assert.equal(await read(h, 0), 32768);
      // Every process below this lab host's sshd listener: alice's session there (sshd's monitor, its child, sftp-server).
      const below = (pid: number): number[] =>
        spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
          .stdout.split('\n')
          .filter(Boolean)
          .map(Number)
          .flatMap((c) => [c, ...below(c)]);
      const children = below(h1.pids().sshd);
      assert.ok(children.length > 0, 'the target session has sshd processes');
      for (const pid of children) process.kill(pid, 'SIGKILL');
      await until(
        'the transfer is cut in the audit',
        async () => (await dbRows({ path: '/h1/tmp/dying.bin', operation: 'download' })).length === 1,
        15_000,
      );
      const r = await status(read(h, 32768));
      assert.equal(r.code, 7, `SSH_FX_CONNECTION_LOST: ${r.message}`);
      assert.match(r.message, /connection to h1 was lost/);
      assert.equal((await status(close(h))).code, 7);
      const [row] = await dbRows({ path: '/h1/tmp/dying.bin', operation: 'download' });
      assert.equal(row.result, 'incomplete');
      assert.equal(Number(row.bytes_read), 32768);
      assert.match(row.message, /connection to h1 was lost/);
      // The person's connection stays: the next access logs in to h1 anew.
      const stat = promisify<[string], unknown>(sftp.stat.bind(sftp));
      assert.equal((await status(stat('/h1/tmp/dying.bin'))).code, 0);
    } finally {
      c.end();
    }
  },
);

test(
  'jmp-api down: an open host keeps working, a new host gets a clear status, and no ticket is asked for',
  { timeout: 60_000 },
  async () => {
    // jmp-sftp reaches jmp-api through a relay this test cuts.
    const api = new URL(s.stack.api.url);
    const sockets = new Set<Socket>();
    const relay = createServer((inbound) => {
      const out = connect(Number(api.port), api.hostname);
      for (const x of [inbound, out]) {
        sockets.add(x);
        x.on('error', () => x.destroy());
        x.on('close', () => sockets.delete(x));
      }
      inbound.pipe(out).pipe(inbound);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const dir = join(s.dir, 'api-down');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'host_key'), readFileSync(s.sftp.hostKeyPath), { mode: 0o600 });
    const inst = await startJmpSftp(s.stack, dir, {
      JMP_API_URL: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    });
    try {
      const { c, sftp } = await sftpClient(inst.port);
      try {
        const stat = promisify<[string], unknown>(sftp.stat.bind(sftp));
        assert.equal((await status(stat('/h1/etc/hostname'))).code, 0);
        const t0 = new Date();
        await new Promise<void>((r) => {
          relay.close(() => r());
          for (const x of sockets) x.destroy();
        });
        assert.equal((await status(stat('/h1/etc/hostname'))).code, 0, 'h1 is open: it goes on');
        const h3 = await status(stat('/h3/etc/hostname'));
        assert.equal(h3.code, 6, `SSH_FX_NO_CONNECTION: ${h3.message}`);
        assert.match(h3.message, /jmp is unavailable right now/);
        const tickets = await s.stack.api
          .db('audit_events')
          .whereIn('action', ['ticket.issued', 'ticket.denied'])
          .where({ target: 'alice@h3' })
          .where('at', '>=', t0);
        assert.equal(tickets.length, 0);
      } finally {
        c.end();
      }
    } finally {
      await inst.stop();
    }
  },
);
