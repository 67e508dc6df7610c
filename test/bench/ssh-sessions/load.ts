// The people of the ssh-sessions benchmark: a child process (forked by
// bench.ts, so their work does not share an event loop with jmp-api) holding
// many ssh2 client sessions, each an interactive pty shell on the target,
// either through jmp-ssh (log in, `ssh <host>` in the jump shell), through
// the bare relay (relay.ts: log in, the target's shell at once) or directly.
// Sessions are kept in named groups, so two sets can stay open and type in
// turns. Driven over IPC:
//   {cmd:'open', ...OpenSpec}  → {ok, opened, ms}
//   {cmd:'type', ...TypeSpec}  → {ok, keys, p50, p99, max, lost}
//   {cmd:'close', group}       → {ok}
// Typing: every session sends one key every `intervalMs` (starting at a
// random phase so keys spread evenly), alternating a letter and Backspace so
// the line stays short; one key in flight per session. Echo latency = key
// written → the next output of that session.
import ssh2, { type ClientChannel } from 'ssh2';

export interface OpenSpec {
  /** The set these sessions join. */
  group: string;
  via: 'jmp' | 'relay' | 'direct';
  count: number;
  /** Connections being set up at once. */
  concurrency: number;
  host: string;
  port: number;
  username: string;
  /** jmp, relay: the person's key. */
  privateKey?: string;
  /** direct: the answer to every keyboard-interactive prompt. */
  password?: string;
  /** direct: the target's host key blob (base64) to pin. */
  hostKey?: string;
  /** jmp: the target's name in the jump shell. */
  target?: string;
  /** The target's prompt (a RegExp source). */
  prompt: string;
}
export interface TypeSpec {
  group: string;
  seconds: number;
  intervalMs: number;
}

const JMP_PROMPT = /\]\$ (?:\x1b\[K)?$/;
const PTY = { term: 'xterm', cols: 120, rows: 40, width: 0, height: 0 };

interface Session {
  client: ssh2.Client;
  ch: ClientChannel;
  onOutput: (() => void) | null;
}
const groups = new Map<string, Session[]>();
const group = (name: string): Session[] => {
  let g = groups.get(name);
  if (!g) groups.set(name, (g = []));
  return g;
};

/** Waits until the session's accumulated output matches `re`. */
function waitFor(ch: ClientChannel, re: RegExp, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf = (buf + d.toString('utf8')).slice(-4096);
      if (re.test(buf)) {
        clearTimeout(t);
        ch.removeListener('data', onData);
        resolve();
      }
    };
    const t = setTimeout(() => {
      ch.removeListener('data', onData);
      reject(new Error(`timed out waiting for ${what}; output: ${JSON.stringify(buf.slice(-300))}`));
    }, ms);
    ch.on('data', onData);
  });
}

async function openOne(spec: OpenSpec): Promise<Session> {
  const client = new ssh2.Client();
  const pinned = spec.hostKey ? Buffer.from(spec.hostKey, 'base64') : null;
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.on('keyboard-interactive', (_n, _i, _l, prompts, finish) => finish(prompts.map(() => spec.password ?? '')));
    client.connect({
      host: spec.host,
      port: spec.port,
      username: spec.username,
      readyTimeout: 60_000,
      ...(spec.privateKey ? { privateKey: spec.privateKey } : { tryKeyboard: true }),
      ...(pinned ? { hostVerifier: (key: Buffer) => key.equals(pinned) } : {}),
    });
  });
  const ch = await new Promise<ClientChannel>((resolve, reject) =>
    client.shell(PTY, (err, c) => (err ? reject(err) : resolve(c))),
  );
  const prompt = new RegExp(spec.prompt);
  if (spec.via === 'jmp') {
    await waitFor(ch, JMP_PROMPT, 60_000, 'the jump shell prompt');
    const atTarget = waitFor(ch, prompt, 60_000, `the prompt of ${spec.target}`);
    ch.write(`ssh ${spec.target}\r`);
    await atTarget;
  } else {
    await waitFor(ch, prompt, 60_000, 'the target prompt');
  }
  const s: Session = { client, ch, onOutput: null };
  ch.on('data', () => {
    const f = s.onOutput;
    s.onOutput = null;
    f?.();
  });
  ch.on('close', () => {
    s.onOutput?.();
  });
  return s;
}

async function open(spec: OpenSpec): Promise<{ opened: number; ms: number }> {
  const t0 = performance.now();
  const sessions = group(spec.group);
  let next = 0;
  const worker = async () => {
    while (next < spec.count) {
      next++;
      sessions.push(await openOne(spec));
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.count) }, worker));
  return { opened: sessions.length, ms: Math.round(performance.now() - t0) };
}

async function type(spec: TypeSpec): Promise<{ keys: number; p50: number; p99: number; max: number; lost: number }> {
  const lat: number[] = [];
  let lost = 0;
  const end = performance.now() + spec.seconds * 1000;
  await Promise.all(
    group(spec.group).map(async (s, i) => {
      await new Promise((r) => setTimeout(r, Math.random() * spec.intervalMs));
      let n = 0;
      while (performance.now() < end) {
        const t0 = performance.now();
        const key = n++ % 2 === 0 ? String.fromCharCode(97 + ((i + n) % 26)) : '\x7f';
        const echoed = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => {
            s.onOutput = null;
            resolve(false);
          }, 10_000);
          s.onOutput = () => {
            clearTimeout(t);
            resolve(true);
          };
          s.ch.write(key);
        });
        const ms = performance.now() - t0;
        if (echoed) lat.push(ms);
        else lost++;
        const wait = spec.intervalMs - (performance.now() - t0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      // Leave the line empty (an odd count left a letter).
      if (n % 2 === 1) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2000);
          s.onOutput = () => {
            clearTimeout(t);
            resolve();
          };
          s.ch.write('\x7f');
        });
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const pct = (p: number) => +(lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))] ?? NaN).toFixed(2);
  return { keys: lat.length, p50: pct(50), p99: pct(99), max: +(lat.at(-1) ?? NaN).toFixed(2), lost };
}

async function closeAll(name: string): Promise<void> {
  await Promise.all(
    group(name)
      .splice(0)
      .map(
        (s) =>
          new Promise<void>((resolve) => {
            s.client.once('close', () => resolve());
            const t = setTimeout(() => {
              s.client.destroy();
              resolve();
            }, 5000);
            t.unref();
            s.client.end();
          }),
      ),
  );
}

process.on('message', (m: { cmd: 'open' | 'type' | 'close' } & Partial<OpenSpec & TypeSpec>) => {
  const reply = (r: object) => process.send!({ ok: true, ...r });
  const fail = (err: unknown) => process.send!({ ok: false, error: (err as Error)?.stack ?? String(err) });
  if (m.cmd === 'open') open(m as OpenSpec).then(reply, fail);
  else if (m.cmd === 'type') type(m as TypeSpec).then(reply, fail);
  else if (m.cmd === 'close') closeAll(m.group!).then(() => reply({}), fail);
});
process.on('disconnect', () => process.exit(0));
