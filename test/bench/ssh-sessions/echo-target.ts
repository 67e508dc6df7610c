// A minimal SSH target for the ssh-sessions benchmark: one ssh2 server
// process inside a lab namespace that holds a thousand sessions where real
// sshd would need three processes each (see bench.ts). It behaves like a
// target as jmp-ssh sees it: keyboard-interactive with pam_jmp's prompt
// ("jmp ticket: "), a pty shell with a prompt that echoes what is typed
// (Backspace erases, Enter gives a new prompt, Ctrl-U clears the line).
//
// The ticket is checked for shape only (a JWT naming the user, not expired):
// the signature check belongs to the agent and jmp-api, which are not what
// this benchmark measures. BENCH_DIRECT_SECRET is accepted in its place for
// the direct baseline, which has no ticket.
//
//   node --import tsx echo-target.ts <host-key-file> <address> <port> <hostname>
// Prints "listening" on stdout once it accepts connections.
import { readFileSync } from 'node:fs';
import ssh2, { type ServerChannel } from 'ssh2';

const [keyFile, address, portText, hostname] = process.argv.slice(2);
if (!keyFile || !address || !portText || !hostname) {
  process.stderr.write('usage: echo-target.ts <host-key-file> <address> <port> <hostname>\n');
  process.exit(2);
}
const directSecret = process.env.BENCH_DIRECT_SECRET ?? '';

/** A JWT whose payload names `user` and has not expired. */
function ticketFits(answer: string | undefined, user: string): boolean {
  if (!answer) return false;
  if (directSecret.length >= 16 && answer === directSecret) return true;
  const parts = answer.split('.');
  if (parts.length !== 3) return false;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as {
      sub?: unknown;
      exp?: unknown;
    };
    return payload.sub === user && typeof payload.exp === 'number' && payload.exp * 1000 > Date.now();
  } catch {
    return false;
  }
}

/** A line discipline just good enough for typing: echo, erase, new prompt. */
function echoShell(ch: ServerChannel, prompt: string): void {
  ch.write(prompt);
  ch.on('data', (d: Buffer) => {
    let out = '';
    for (const byte of d) {
      if (byte === 0x7f || byte === 0x08) out += '\b \b';
      else if (byte === 0x0d) out += `\r\n${prompt}`;
      else if (byte === 0x15) out += `\r\x1b[K${prompt}`;
      else if (byte === 0x04) {
        ch.write(`${out}logout\r\n`);
        ch.exit(0);
        ch.end();
        return;
      } else if (byte >= 0x20) out += String.fromCharCode(byte);
    }
    if (out) ch.write(out);
  });
}

const server = new ssh2.Server({ hostKeys: [readFileSync(keyFile)], ident: 'jmp-bench-echo' }, (client) => {
  let user = '';
  client.on('error', () => {
    /* a client that went away */
  });
  client.on('authentication', (ctx) => {
    if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
    ctx.prompt([{ prompt: 'jmp ticket: ', echo: false }], (answers) => {
      if (ticketFits(answers[0], ctx.username)) {
        user = ctx.username;
        ctx.accept();
      } else ctx.reject();
    });
  });
  client.on('ready', () => {
    client.on('session', (accept) => {
      const session = accept();
      session.on('pty', (ok) => ok?.());
      session.on('env', (ok) => ok?.());
      session.on('window-change', (ok) => ok?.());
      session.once('shell', (ok) => echoShell(ok(), `${user}@${hostname}:~$ `));
      session.once('exec', (_ok, no) => no?.());
    });
  });
});
server.maxConnections = 20_000;
server.listen(Number(portText), address, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
