import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_LINE_BYTES,
  ProtocolError,
  decodeLine,
  decodeRequest,
  decodeResponse,
  decodeValue,
  encodeLine,
  encodeRequest,
  encodeResponse,
  encodeValue,
  fitReason,
  percentDecode,
  percentEncode,
  readLine,
  type DecodedResponse,
  type ProtocolErrorCode,
  type Request,
  type Response,
} from './line.js';
import { readGolden } from '../../test/golden.js';

function throwsCode(fn: () => unknown, code: ProtocolErrorCode, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    assert.ok(err.message.length > 10, 'errors carry a sentence');
    return true;
  });
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('percent-encoding', () => {
  test('every byte value round-trips', () => {
    const enc = percentEncode(ALL_BYTES);
    assert.deepEqual(percentDecode(enc), ALL_BYTES);
    assert.match(enc, /^[A-Za-z0-9._~%-]+$/);
  });

  test('only unreserved bytes stay literal; hex is upper-case', () => {
    for (let b = 0; b < 256; b++) {
      const enc = percentEncode(Buffer.from([b]));
      const unreserved = /[A-Za-z0-9._~-]/.test(String.fromCharCode(b));
      assert.equal(
        enc,
        unreserved ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'),
        `byte ${b}`,
      );
    }
  });

  test('either case of hex is accepted on input', () => {
    assert.deepEqual(percentDecode('%2f%2F%aB%Ab'), Buffer.from([0x2f, 0x2f, 0xab, 0xab]));
  });

  test('malformed escapes and reserved characters are rejected', () => {
    for (const bad of ['%', '%2', '%G0', '%0g', 'a%', 'a b', 'a=b', 'a+b', 'a/b', 'é', 'a\nb', 'a\rb', 'a%%20']) {
      throwsCode(() => percentDecode(bad), 'bad_request');
    }
  });

  test('string values: UTF-8, NUL and lone surrogates refused', () => {
    const s = 'alice é ü 日本 🙂 \u0001\u007f~';
    assert.equal(decodeValue(encodeValue(s)), s);
    assert.equal(encodeValue('a b'), 'a%20b');
    assert.equal(encodeValue(''), '');
    throwsCode(() => encodeValue('a\0b'), 'bad_request', /NUL/);
    throwsCode(() => encodeValue('a\uD800b'), 'bad_request', /surrogate/);
    throwsCode(() => decodeValue('a%00b'), 'bad_request', /NUL/);
    throwsCode(() => decodeValue('%C3'), 'bad_request', /UTF-8/);
    throwsCode(() => decodeValue('%FF'), 'bad_request', /UTF-8/);
  });

  test('every code point class round-trips through a line', () => {
    const points = [0xfffd, 0xfeff, 0xffff, 0x10000, 0x1f642, 0x10ffff];
    for (let c = 1; c < 0x800; c++) points.push(c);
    for (let i = 0; i < points.length; i += 256) {
      const s = String.fromCodePoint(...points.slice(i, i + 256));
      const line = encodeLine('allow', { reason: s, mode: 'online' });
      assert.equal(decodeLine(line).fields['reason'], s);
    }
  });
});

describe('lines', () => {
  test('encode: fields in order, absent skipped, empty kept, \\n at the end', () => {
    assert.equal(encodeLine('auth', { user: 'alice', rhost: undefined, tty: '' }), 'v1 auth user=alice tty=\n');
    assert.equal(encodeLine('ping'), 'v1 ping\n');
  });

  test('decode accepts with or without the trailing \\n, from string or bytes', () => {
    for (const input of ['v1 ping x=1', 'v1 ping x=1\n', Buffer.from('v1 ping x=1\n')]) {
      const line = decodeLine(input);
      assert.equal(line.word, 'ping');
      assert.equal(line.fields['x'], '1');
    }
  });

  test('fields use a null prototype: __proto__ is plain data', () => {
    const line = decodeLine('v1 allow __proto__=x constructor=y');
    assert.equal(line.fields['__proto__'], 'x');
    assert.equal(line.fields['constructor'], 'y');
    assert.equal(Object.getPrototypeOf(line.fields), null);
  });

  test('malformed lines are bad_request', () => {
    const bad: [string, RegExp?][] = [
      ['', /v1/],
      ['v2 ping', /version/],
      ['V1 ping'],
      ['v1'],
      ['v1 '],
      ['v1 Ping'],
      ['v1 pi-ng'],
      ['v1 ' + 'a'.repeat(33)],
      ['v1 ping ', /space/],
      ['v1  ping'],
      ['v1 ping  a=1'],
      ['v1 ping a=1 ', /space/],
      [' v1 ping'],
      ['v1 ping a', /no "="/],
      ['v1 ping =1'],
      ['v1 ping A=1', /key/],
      ['v1 ping a-b=1'],
      ['v1 ping ' + 'k'.repeat(33) + '=1'],
      ['v1 ping a=1 a=2', /more than once/],
      ['v1 ping a=1=2', /"a"/],
      ['v1 ping a=%zz'],
      ['v1 ping a=%00', /NUL/],
      ['v1 ping a=b\r\n', /carriage return/],
      ['v1 ping a=b\r', /carriage return/],
      ['v1 ping\ta=b', /control/],
      ['v1 ping a=\u00e9', /non-ASCII/],
      ['v1 ping\n\n'],
      ['v1 ping\na=b'],
    ];
    for (const [line, re] of bad) throwsCode(() => decodeLine(line), 'bad_request', re);
    throwsCode(() => decodeLine(Buffer.from([0x76, 0x31, 0x20, 0x70, 0xff])), 'bad_request');
  });

  test('a key of 32 characters is fine', () => {
    assert.equal(decodeLine(`v1 ping ${'k'.repeat(32)}=1`).fields['k'.repeat(32)], '1');
  });

  test('encode refuses bad words, keys and values', () => {
    throwsCode(() => encodeLine('Auth'), 'bad_request');
    throwsCode(() => encodeLine('auth', { 'bad key': 'x' }), 'bad_request');
    throwsCode(() => encodeLine('auth', { user: 'a\0' }), 'bad_request');
  });

  test('limit: 8192 bytes including \\n, both directions', () => {
    const prefix = 'v1 allow reason=';
    const fits = prefix + 'x'.repeat(MAX_LINE_BYTES - prefix.length - 1);
    assert.equal(fits.length + 1, MAX_LINE_BYTES);
    assert.equal(decodeLine(fits + '\n').fields['reason']?.length, MAX_LINE_BYTES - prefix.length - 1);
    assert.equal(decodeLine(fits).word, 'allow');
    throwsCode(() => decodeLine(fits + 'x\n'), 'too_long');
    throwsCode(() => decodeLine(fits + 'x'), 'too_long');
    assert.equal(
      encodeLine('allow', { reason: 'x'.repeat(MAX_LINE_BYTES - prefix.length - 1) }).length,
      MAX_LINE_BYTES,
    );
    throwsCode(() => encodeLine('allow', { reason: 'x'.repeat(MAX_LINE_BYTES - prefix.length) }), 'too_long');
    // Percent-encoding counts: one space is three bytes.
    throwsCode(() => encodeLine('allow', { reason: ' '.repeat(2726) }), 'too_long');
  });
});

describe('requests', () => {
  const examples: Request[] = [
    {
      op: 'auth',
      user: 'alice',
      service: 'sshd',
      rhost: '10.231.0.1',
      tty: 'ssh',
      ticket: 'eyJhbGciOiJFUzI1NiIs.a_b-c~d+/=',
    },
    { op: 'auth', user: 'alice', ticket: 't' },
    { op: 'account', user: 'alice', service: 'sshd', rhost: 'fe80::1%eth0', tty: 'ssh' },
    { op: 'sudo', user: 'alice', runas: 'root', service: 'sudo', tty: '/dev/pts/3' },
    { op: 'su', user: 'alice', runas: 'bob' },
    { op: 'session_open', user: 'alice', service: 'sshd', rhost: 'h', tty: 'ssh', pid: 4242 },
    { op: 'session_close', user: 'alice', pid: 0 },
    { op: 'ping' },
  ];

  test('round trip of every op', () => {
    for (const req of examples) {
      const line = encodeRequest(req);
      assert.ok(line.endsWith('\n'));
      const { fields, ...typed } = decodeRequest(line);
      assert.deepEqual(typed, req);
      assert.equal(Object.keys(fields).length, Object.keys(req).length - 1);
    }
  });

  test('the documented example', () => {
    assert.equal(
      encodeRequest({
        op: 'auth',
        user: 'alice',
        service: 'sshd',
        rhost: '10.231.0.1',
        tty: 'ssh',
        ticket: 'eyJhbGciOiJFUzI1NiIs...',
      }),
      'v1 auth user=alice service=sshd rhost=10.231.0.1 tty=ssh ticket=eyJhbGciOiJFUzI1NiIs...\n',
    );
    assert.equal(encodeRequest({ op: 'sudo', user: 'alice', runas: 'root' }), 'v1 sudo user=alice runas=root\n');
  });

  test('ticket characters are percent-encoded', () => {
    assert.equal(
      encodeRequest({ op: 'auth', user: 'a', ticket: 'x y=z%/+' }),
      'v1 auth user=a ticket=x%20y%3Dz%25%2F%2B\n',
    );
  });

  test('unknown keys are kept and ignored', () => {
    const req = decodeRequest('v1 account user=alice future_field=1 service=sshd');
    assert.equal(req.op, 'account');
    assert.equal(req.fields['future_field'], '1');
    assert.equal((req as unknown as Record<string, unknown>)['future_field'], undefined);
  });

  test('an unknown but well-formed op is unknown_op; a malformed one bad_request', () => {
    throwsCode(() => decodeRequest('v1 reboot user=alice'), 'unknown_op', /reboot/);
    throwsCode(() => decodeRequest('v1 allow'), 'unknown_op');
    throwsCode(() => decodeRequest('v1 REBOOT'), 'bad_request');
  });

  test('required fields', () => {
    throwsCode(() => decodeRequest('v1 auth user=alice'), 'bad_request', /ticket/);
    throwsCode(() => decodeRequest('v1 auth ticket=t'), 'bad_request', /user/);
    throwsCode(() => decodeRequest('v1 auth user= ticket=t'), 'bad_request', /user/);
    throwsCode(() => decodeRequest('v1 sudo user=alice'), 'bad_request', /runas/);
    throwsCode(() => decodeRequest('v1 su user=alice'), 'bad_request', /runas/);
    throwsCode(() => decodeRequest('v1 account service=sshd'), 'bad_request', /user/);
    throwsCode(() => decodeRequest('v1 session_open'), 'bad_request', /user/);
    throwsCode(() => encodeRequest({ op: 'auth', user: 'alice', ticket: '' }), 'bad_request', /ticket/);
    throwsCode(() => encodeRequest({ op: 'session_open', user: 'a', pid: -1 }), 'bad_request', /pid/);
  });

  test('pid must be decimal', () => {
    for (const pid of ['', 'x', '-1', '1.5', '0x10', '12345678901']) {
      throwsCode(() => decodeRequest(`v1 session_open user=a pid=${pid}`), 'bad_request', /pid/);
    }
  });

  test('too long', () => {
    throwsCode(() => encodeRequest({ op: 'auth', user: 'alice', ticket: 'x'.repeat(MAX_LINE_BYTES) }), 'too_long');
    throwsCode(() => decodeRequest(`v1 auth user=a ticket=${'x'.repeat(MAX_LINE_BYTES)}`), 'too_long');
  });
});

describe('responses', () => {
  const examples: Response[] = [
    { status: 'allow', mode: 'online' },
    { status: 'allow', reason: 'login grant #12 (service owner)', mode: 'offline' },
    { status: 'deny', reason: 'no login right for alice on web-01', mode: 'online' },
    { status: 'deny', reason: 'default deny', mode: 'default' },
    { status: 'error', code: 'forbidden', reason: 'PAM operations need uid 0' },
    { status: 'error', code: 'too_long' },
    { status: 'pong', version: '0.1.0', mode: 'online' },
  ];

  test('round trip of every status', () => {
    for (const res of examples) {
      const { fields: _fields, ...typed } = decodeResponse(encodeResponse(res));
      assert.deepEqual(typed, res);
    }
  });

  test('the documented example', () => {
    assert.equal(
      encodeResponse({ status: 'deny', reason: 'no login right for alice on web-01', mode: 'online' }),
      'v1 deny reason=no%20login%20right%20for%20alice%20on%20web-01 mode=online\n',
    );
  });

  test('unknown status is unknown_status; unknown mode and keys are ignored', () => {
    throwsCode(() => decodeResponse('v1 maybe'), 'unknown_status');
    throwsCode(() => decodeResponse('v1 auth user=x ticket=y'), 'unknown_status');
    const res = decodeResponse('v1 allow mode=quantum hint=x');
    assert.equal(res.status, 'allow');
    assert.equal((res as { mode?: string }).mode, undefined);
    assert.equal(res.fields['mode'], 'quantum');
    assert.equal(res.fields['hint'], 'x');
  });

  test('an error is sent with a code; one received without is still an error (pam_jmp denies it)', () => {
    const res = decodeResponse('v1 error reason=x');
    assert.equal(res.status, 'error');
    assert.equal((res as { code?: string }).code, undefined);
    throwsCode(() => encodeResponse({ status: 'error', code: '' }), 'bad_request', /code/);
    assert.equal(decodeResponse('v1 error code=new_code').status, 'error');
  });

  test('mode, code, version and uid are at most 63 bytes, both ways (pam_jmp buffers)', () => {
    assert.equal((decodeResponse(`v1 allow uid=${'7'.repeat(63)}`) as { uid?: string }).uid, '7'.repeat(63));
    throwsCode(() => decodeResponse(`v1 allow uid=${'7'.repeat(64)}`), 'bad_request', /uid/);
    throwsCode(() => decodeResponse(`v1 pong version=${'%C3%A9'.repeat(32)}`), 'bad_request', /version/);
    throwsCode(() => encodeResponse({ status: 'error', code: 'x'.repeat(64) }), 'bad_request', /code/);
    // Keys a status does not define are unknown keys for it: not limited.
    assert.equal(decodeResponse(`v1 deny uid=${'7'.repeat(64)}`).status, 'deny');
  });

  test('fitReason shortens a long reason to fit, by code point', () => {
    const short: Response = { status: 'deny', reason: 'no', mode: 'online' };
    assert.equal(fitReason(short), short);
    const long = fitReason({ status: 'deny', reason: '🙂'.repeat(5000), mode: 'online' });
    const line = encodeResponse(long);
    assert.ok(line.length <= MAX_LINE_BYTES);
    assert.ok(line.length > MAX_LINE_BYTES - 20, `uses the space: ${line.length}`);
    const reason = (decodeResponse(line) as { reason?: string }).reason ?? '';
    assert.match(reason, /^(🙂)+…$/u);
  });
});

describe('readLine', () => {
  const empty: Buffer = Buffer.alloc(0);

  test('a line in one chunk', () => {
    const r = readLine(empty, Buffer.from('v1 ping\n'));
    assert.equal(r.kind, 'line');
    if (r.kind !== 'line') return;
    assert.equal(r.line.toString(), 'v1 ping');
    assert.equal(r.rest.length, 0);
  });

  test('a line split byte by byte, then what follows it', () => {
    const input = Buffer.from('v1 auth user=alice ticket=abc\nextra');
    let buffered = empty;
    for (let i = 0; i < input.length; i++) {
      const r = readLine(buffered, input.subarray(i, i + 1));
      if (r.kind === 'need_more') {
        buffered = r.buffered;
        continue;
      }
      assert.equal(r.kind, 'line');
      if (r.kind !== 'line') return;
      assert.equal(i, input.indexOf('\n'));
      assert.equal(r.line.toString(), 'v1 auth user=alice ticket=abc');
      assert.equal(decodeRequest(r.line).op, 'auth');
      return;
    }
    assert.fail('no line');
  });

  test('rest holds bytes after the newline', () => {
    const r = readLine(Buffer.from('v1 pi'), Buffer.from('ng\nv1 ping\n'));
    assert.ok(r.kind === 'line');
    assert.equal(r.line.toString(), 'v1 ping');
    assert.equal(r.rest.toString(), 'v1 ping\n');
  });

  test('need_more does not alias the caller chunk', () => {
    const chunk = Buffer.from('v1 pi');
    const r = readLine(empty, chunk);
    assert.ok(r.kind === 'need_more');
    chunk.fill(0);
    assert.equal(r.buffered.toString(), 'v1 pi');
  });

  test('exactly 8192 bytes with the newline is a line; one more is too_long', () => {
    const body = Buffer.alloc(MAX_LINE_BYTES - 1, 'x');
    const ok = readLine(empty, Buffer.concat([body, Buffer.from('\n')]));
    assert.equal(ok.kind, 'line');
    const big = Buffer.alloc(MAX_LINE_BYTES, 'x');
    assert.equal(readLine(empty, Buffer.concat([big, Buffer.from('\n')])).kind, 'too_long');
  });

  test('too_long is reported as soon as no newline can fit', () => {
    let buffered = empty;
    const chunk = Buffer.alloc(1024, 'x');
    let result = 'need_more';
    let chunks = 0;
    while (result === 'need_more') {
      const r = readLine(buffered, chunk);
      result = r.kind;
      chunks++;
      if (r.kind === 'need_more') {
        buffered = r.buffered;
        assert.ok(buffered.length < MAX_LINE_BYTES);
      }
    }
    assert.equal(result, 'too_long');
    assert.equal(chunks, MAX_LINE_BYTES / 1024);
    // 8191 bytes without newline still might complete.
    assert.equal(readLine(empty, Buffer.alloc(MAX_LINE_BYTES - 1, 'x')).kind, 'need_more');
  });

  test('an empty chunk changes nothing', () => {
    const r = readLine(Buffer.from('v1'), Buffer.alloc(0));
    assert.ok(r.kind === 'need_more');
    assert.equal(r.buffered.toString(), 'v1');
  });
});

describe('ticket op and status (jmp-agent ticket HOST)', () => {
  test('request: host is required; no user field is taken from the line', () => {
    assert.equal(encodeRequest({ op: 'ticket', host: 'web-02' }), 'v1 ticket host=web-02\n');
    const r = decodeRequest('v1 ticket host=web-02 user=root');
    assert.ok(r.op === 'ticket');
    assert.equal(r.host, 'web-02');
    assert.equal((r as unknown as { user?: string }).user, undefined);
    assert.throws(
      () => decodeRequest('v1 ticket'),
      (e: unknown) => e instanceof ProtocolError && e.code === 'bad_request',
    );
  });
  test('response: round trip, ticket required, newlines in host keys encoded', () => {
    const res: Response = {
      status: 'ticket',
      ticket: 'eyJ.a.b',
      expires_at: '2030-01-01T00:00:00.000Z',
      host_id: '3',
      hostname: 'web-02',
      addresses: '10.0.0.2',
      ssh_host_keys: 'ssh-ed25519 AAAA\nssh-rsa BBBB',
    };
    const line = encodeResponse(res);
    assert.ok(!line.slice(0, -1).includes('\n'));
    const back = decodeResponse(line);
    assert.ok(back.status === 'ticket');
    assert.equal(back.ssh_host_keys, 'ssh-ed25519 AAAA\nssh-rsa BBBB');
    assert.throws(
      () => decodeResponse('v1 ticket hostname=x'),
      (e: unknown) => e instanceof ProtocolError && e.code === 'bad_request',
    );
  });
});

// test/golden/agent-protocol-v1.txt: the same bytes pam_jmp's codec is tested
// against (pam-module/tests/test_golden.c).
describe('golden vectors shared with pam_jmp', () => {
  /** The agent reports every check of pam_jmp's codec as one of its three codes. */
  const agentCode = (name: string): ProtocolErrorCode =>
    name === 'too_long' || name === 'unknown_status' ? name : 'bad_request';
  /** status, then the typed fields (in the spec's order) canonically encoded. */
  const meaning = (res: DecodedResponse): string =>
    Object.entries(res)
      .filter(([k, v]) => k !== 'fields' && v !== undefined)
      .map(([k, v]) => (k === 'status' ? String(v) : `${k}=${percentEncode(Buffer.from(String(v), 'utf8'))}`))
      .join(' ');
  const vectors = readGolden('agent-protocol-v1.txt');

  test('responses: each line decodes to its meaning, or is refused', () => {
    const responses = vectors.filter((v) => v.kind === 'response');
    assert.ok(responses.length >= 90);
    for (const { lineno, cols } of responses) {
      const [line, want] = cols as [string, string];
      const bytes = Buffer.from(line + '\n', 'latin1');
      if (want.startsWith('error:')) {
        assert.throws(
          () => decodeResponse(bytes),
          (err: unknown) => {
            assert.ok(err instanceof ProtocolError, `line ${lineno}: ${String(err)}`);
            assert.equal(err.code, agentCode(want.slice(6)), `line ${lineno}: ${err.message}`);
            return true;
          },
          `line ${lineno}: accepted ${line.slice(0, 80)}`,
        );
      } else {
        assert.equal(meaning(decodeResponse(bytes)), Buffer.from(want, 'latin1').toString(), `line ${lineno}`);
      }
    }
  });

  test('requests: pam_jmp fields encode to the line, and the agent decodes it back', () => {
    const requests = vectors.filter((v) => v.kind === 'request');
    assert.ok(requests.length >= 20);
    for (const { lineno, cols } of requests) {
      const [spec, line, agent] = cols as [string, string, string];
      const [op, ...pairs] = spec.split(' ');
      const fields: Record<string, string> = {};
      let utf8 = true;
      for (const p of pairs) {
        const eq = p.indexOf('=');
        try {
          fields[p.slice(0, eq)] = decodeValue(p.slice(eq + 1));
        } catch {
          utf8 = false; // a value no string holds: only pam_jmp can send it
        }
      }
      if (line.startsWith('error:')) {
        if (utf8) throwsCode(() => encodeLine(op!, fields), agentCode(line.slice(6)));
        continue;
      }
      if (utf8) assert.equal(encodeLine(op!, fields), line + '\n', `line ${lineno}`);
      const bytes = Buffer.from(line + '\n', 'latin1');
      if (agent === 'ok') {
        const req = decodeRequest(bytes);
        assert.equal(req.op, op, `line ${lineno}`);
        assert.deepEqual({ ...req.fields }, fields, `line ${lineno}`);
      } else {
        throwsCode(() => decodeRequest(bytes), agent.slice(6) as ProtocolErrorCode);
      }
    }
  });
});
