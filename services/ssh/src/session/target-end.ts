// Waiting for a target session to end, the same way for every kind (shell,
// database): the target exits, the person closes the channel, or the session
// is ended from outside (jmp-api, an administrator). The person's channel
// outlives the session (back to the menu, then the next one): its close
// listener is removed when the session ends, so sessions don't pile listeners
// onto it.
import type { ClientChannel, ServerChannel } from 'ssh2';
import type { SessionController } from './controller.js';
import type { WatchTap } from './watch-tap.js';

export interface TargetEnd {
  code: number;
  endReason: 'exit' | 'terminated' | 'client closed';
}

export async function untilTargetEnds(o: {
  id: string;
  channel: ServerChannel;
  /** The target session: its channel ends it, close() cuts it. */
  target: { channel: ClientChannel; close(): void };
  sessions: SessionController;
  notice(msg: string): void;
  tap?: WatchTap;
}): Promise<TargetEnd> {
  let endReason: TargetEnd['endReason'] = 'exit';
  let onClientClose = (): void => {};
  const code = await new Promise<number>((resolve) => {
    let exit = 0;
    o.sessions.track(
      o.id,
      (reason) => {
        endReason = 'terminated';
        o.notice(`this session was ended: ${reason}`);
        o.target.close();
        resolve(exit);
      },
      o.tap,
    );
    o.target.channel.on('exit', (c: number | null) => {
      exit = c ?? 0;
    });
    o.target.channel.on('close', () => resolve(exit));
    onClientClose = () => {
      endReason = 'client closed';
      o.target.close();
      resolve(exit);
    };
    o.channel.once('close', onClientClose);
  });
  o.channel.removeListener('close', onClientClose);
  o.sessions.untrack(o.id);
  return { code, endReason };
}
