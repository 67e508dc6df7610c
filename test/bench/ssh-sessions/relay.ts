// The baseline of the ssh-sessions benchmark: a bare ssh2 two-hop relay. It
// takes the person's public-key login and, for each pty shell, opens an ssh2
// client connection to the target (keyboard-interactive, host key pinned),
// asks for the same pty and pipes the two channels into each other. The same
// two SSH hops as jmp-ssh (the same library, one process), without what jmp
// adds: jmp-api (tickets, sessions, heartbeats), the command guard and the
// recorder. Its CPU per echoed key is what jmp-ssh's is compared with.
//
//   node --import tsx relay.ts   with, in the environment:
//   RELAY_HOST_KEY (file), RELAY_PORT, RELAY_USER_KEY (the person's public key line),
//   RELAY_TARGET_HOST, RELAY_TARGET_PORT, RELAY_TARGET_HOST_KEY (base64 blob), and
//   RELAY_TARGET_SECRET (every keyboard-interactive answer) or RELAY_TARGET_KEY_FILE (a private key)
// Prints "listening" on stdout once it accepts connections.
import { readFileSync } from 'node:fs';
import ssh2, { type ClientChannel, type PseudoTtyInfo, type ServerChannel } from 'ssh2';

function env(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`relay: ${name} is not set\n`);
    process.exit(2);
  }
  return v;
}
const userKey = ssh2.utils.parseKey(env('RELAY_USER_KEY'));
if (userKey instanceof Error) throw userKey;
const userBlob = userKey.getPublicSSH();
const target = {
  host: env('RELAY_TARGET_HOST'),
  port: Number(env('RELAY_TARGET_PORT')),
  hostKey: Buffer.from(env('RELAY_TARGET_HOST_KEY'), 'base64'),
  secret: process.env.RELAY_TARGET_SECRET ?? '',
  privateKey: process.env.RELAY_TARGET_KEY_FILE ? readFileSync(process.env.RELAY_TARGET_KEY_FILE) : undefined,
};
if (!target.secret && !target.privateKey) {
  process.stderr.write('relay: set RELAY_TARGET_SECRET or RELAY_TARGET_KEY_FILE\n');
  process.exit(2);
}

/** The second hop: a shell on the target with the person's pty, piped both ways. */
function relay(ch: ServerChannel, user: string, pty: PseudoTtyInfo | undefined): void {
  const hop = new ssh2.Client();
  const fail = (err: Error) => {
    ch.stderr.write(`relay: ${err.message}\r\n`);
    ch.exit(1);
    ch.end();
    hop.end();
  };
  hop.once('error', fail);
  hop.on('keyboard-interactive', (_n, _i, _l, prompts, finish) => finish(prompts.map(() => target.secret)));
  hop.once('ready', () => {
    const opts = pty ? { term: 'xterm', cols: pty.cols, rows: pty.rows, width: pty.width, height: pty.height } : false;
    hop.shell(opts, (err, remote: ClientChannel) => {
      if (err) return fail(err);
      ch.pipe(remote).pipe(ch);
      remote.once('close', () => {
        ch.exit(0);
        ch.end();
        hop.end();
      });
      ch.once('close', () => hop.end());
    });
  });
  hop.connect({
    host: target.host,
    port: target.port,
    username: user,
    readyTimeout: 60_000,
    ...(target.privateKey ? { privateKey: target.privateKey } : { tryKeyboard: true }),
    hostVerifier: (key: Buffer) => key.equals(target.hostKey),
  });
}

const server = new ssh2.Server(
  { hostKeys: [readFileSync(env('RELAY_HOST_KEY'))], ident: 'jmp-bench-relay' },
  (client) => {
    let user = '';
    client.on('error', () => {
      /* a client that went away */
    });
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || !ctx.key.data.equals(userBlob)) return ctx.reject(['publickey']);
      if (!ctx.signature) return ctx.accept(); // the key probe
      if (userKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      user = ctx.username;
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        let pty: PseudoTtyInfo | undefined;
        session.on('pty', (ok, _no, info) => {
          pty = info;
          ok?.();
        });
        session.on('env', (ok) => ok?.());
        session.on('window-change', (ok) => ok?.());
        session.once('shell', (ok) => relay(ok(), user, pty));
        session.once('exec', (_ok, no) => no?.());
      });
    });
  },
);
server.maxConnections = 20_000;
server.listen(Number(env('RELAY_PORT')), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
