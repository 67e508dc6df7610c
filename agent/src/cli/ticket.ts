// `jmp-agent ticket HOST`: a one-time ticket for the calling user to hop on
// to HOST. The daemon knows the caller by SO_PEERCRED and signs the request
// with the host key, which the user cannot read; jmp-api grants it only while
// the caller has a live jmp session on this host (DESIGN flow 11).
import { allowFlags, UsageError, type ParsedArgs } from './args.js';
import { askAgent } from './client.js';
import { configFor, stdio, type Io } from './context.js';

export async function ticketCommand(args: ParsedArgs, io: Io = stdio): Promise<number> {
  allowFlags(args, ['json']);
  const host = args.positional[0];
  if (!host || args.positional.length > 1) throw new UsageError('usage: jmp-agent ticket HOST [--json]');
  const config = configFor(args);
  const r = await askAgent(config.socket.path, { op: 'ticket', host }, config.api.requestTimeoutMs + 2000);
  if (r.status !== 'ticket') {
    io.err(
      `jmp-agent: no ticket for ${host}: ${r.status === 'error' ? `${r.code}: ` : ''}${'reason' in r && r.reason ? r.reason : r.status}`,
    );
    return 1;
  }
  if (args.bools.has('json')) {
    io.out(
      JSON.stringify(
        {
          ticket: r.ticket,
          expiresAt: r.expires_at,
          host: {
            id: Number(r.host_id),
            hostname: r.hostname,
            addresses: r.addresses ? r.addresses.split(',') : [],
            sshHostKeys: r.ssh_host_keys ? r.ssh_host_keys.split('\n') : [],
          },
        },
        null,
        2,
      ),
    );
  } else {
    io.out(r.ticket);
    io.err(
      `ticket for ${r.hostname ?? host}${r.addresses ? ` (${r.addresses})` : ''}, valid until ${r.expires_at ?? '?'}; answer the "jmp ticket:" prompt with it`,
    );
  }
  return 0;
}
