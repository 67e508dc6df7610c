// The jump shell on one SSH session channel: the menu, then target sessions
// one after another, back to the menu when each ends.
import type { ServerChannel } from 'ssh2';
import type { MyHost } from '@jmp/contract/schemas/access';
import type { MyDevice } from '@jmp/contract/schemas/devices';
import { HELP, complete, describeHost, parseCommand, renderDatabases, renderDevices, renderHosts } from './menu.js';
import { EOF, LineEditor } from './line-editor.js';

export interface JumpShellDeps {
  user: string;
  loadHosts(): Promise<MyHost[]>;
  /** Runs a session on the host over `channel`; resolves (with its exit code, unused here) when it ends. */
  connect(host: MyHost, command: string | undefined): Promise<unknown>;
  /** Network devices (DESIGN flow 10): the list, and a session on one; absent: the commands say so. */
  loadDevices?(): Promise<MyDevice[]>;
  openDevice?(name: string, account: string | undefined): Promise<unknown>;
  /** Database terminals (DESIGN flow 9) on a host; absent: the commands say so. */
  openDatabase?(host: MyHost, kind: 'mariadb' | 'redis'): Promise<unknown>;
  /** Called for every chunk the person types while the menu (not a target) has the channel. */
  onInput?(): void;
}

export async function runJumpShell(channel: ServerChannel, deps: JumpShellDeps): Promise<void> {
  let hosts = await deps.loadHosts();
  let busy = false;
  const write = (s: string) => {
    if (!channel.destroyed) channel.write(s);
  };
  const editor = new LineEditor(write, `[${deps.user}@jmp]$ `, (line) => complete(line, hosts));
  write(
    `\r\nWelcome to jmp, ${deps.user}. Type a number or a host name to connect, "help" for help.\r\n\r\n${renderHosts(hosts)}`,
  );
  editor.start();

  return new Promise<void>((resolve) => {
    const finish = () => {
      channel.removeListener('data', onData);
      channel.removeListener('end', onEnd);
      resolve();
    };
    // End of input (ssh -T with stdin closed, Ctrl-D on a client that sends EOF) ends the menu like Ctrl-D does.
    const onEnd = () => {
      if (!busy) finish();
    };
    // A session (host or device) ended: the menu again, unless the person left.
    const backToMenu = async () => {
      busy = false;
      if (channel.destroyed || channel.readableEnded) return finish();
      hosts = await deps.loadHosts().catch(() => hosts);
      write(`\r\nBack in jmp.\r\n${renderHosts(hosts)}`);
      editor.start();
    };
    const onData = (data: Buffer) => {
      if (busy) return; // a target session owns the channel
      deps.onInput?.();
      const lines = editor.feed(data.toString('utf8'));
      for (const line of lines) {
        if (line === EOF) {
          write('logout\r\n');
          return finish();
        }
        const cmd = parseCommand(line, hosts);
        switch (cmd.kind) {
          case 'exit':
            return finish();
          case 'help':
            write(HELP);
            break;
          case 'info':
            write(describeHost(cmd.host));
            break;
          case 'list':
            write(renderHosts(hosts));
            break;
          case 'filter':
            write(cmd.matches.length ? renderHosts(hosts, cmd.matches) : `No host matches "${cmd.text}".\r\n`);
            break;
          case 'error':
            write(`jmp: ${cmd.message}\r\n`);
            break;
          case 'devices':
            if (!deps.loadDevices) write('jmp: network devices are not available here\r\n');
            else {
              busy = true;
              void deps
                .loadDevices()
                .then(
                  (d) => write(renderDevices(d)),
                  (err: Error) => write(`jmp: ${err.message}\r\n`),
                )
                .finally(() => {
                  busy = false;
                  editor.start();
                });
              return;
            }
            break;
          case 'device':
            if (!deps.openDevice) {
              write('jmp: network devices are not available here\r\n');
              break;
            }
            busy = true;
            write(`Opening device ${cmd.name} …\r\n`);
            void deps.openDevice(cmd.name, cmd.account).then(backToMenu);
            return;
          case 'databases':
            write(renderDatabases(hosts));
            break;
          case 'database':
            if (!deps.openDatabase) {
              write('jmp: database terminals are not available here\r\n');
              break;
            }
            busy = true;
            void deps.openDatabase(cmd.host, cmd.db).then(backToMenu);
            return;
          case 'connect':
            busy = true;
            write(`Connecting to ${cmd.host.hostname} (${cmd.host.addresses[0] ?? '?'}) as ${deps.user} …\r\n`);
            void deps.connect(cmd.host, cmd.command).then(backToMenu);
            return; // the rest of this chunk belonged to the old prompt
        }
      }
      if (!busy && lines.length) editor.start();
    };
    channel.on('data', onData);
    channel.on('end', onEnd);
    channel.once('close', finish);
    if (channel.readableEnded) finish();
  });
}
