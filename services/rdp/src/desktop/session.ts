// One desktop from the moment its WebSocket is handed to guacamole-lite:
// bytes counted both ways, output to a page that stops reading bounded (guacd
// is paused above the bound, the desktop ends after the stall bound), ended
// by jmp-api's terminate or the drain with a message, and reported once.
import type { WebSocket } from 'ws';
import type { ApiClient } from '@jmp/contract';
import type { DesktopRedeemResponse } from '@jmp/contract/schemas/desktop';
import type { Logger } from '@jmp/runtime';
import type { ClientConnection, GuacdClient } from '../guac/lite.js';
import { errorInstruction, STATUS } from '../guac/instruction.js';
import type { Desktop, Desktops } from '../sessions/desktops.js';

export interface SessionDeps {
  api: ApiClient;
  log: Logger;
  desktops: Desktops;
  bufferBytes: number;
  stallMs: number;
  /** Called once the desktop has ended and jmp-api was told (recording hand-off). */
  onEnded?: (s: DesktopSession) => Promise<string | undefined>;
}

/** Why a desktop ended, from guacamole-lite's close error. */
function reasonOf(err: unknown): string {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return 'closed';
  if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH') return 'guacd_unavailable';
  if (e.message?.startsWith('guacd sent nothing')) return 'guacd_silent';
  return 'error';
}

export class DesktopSession implements Desktop {
  bytesIn = 0;
  bytesOut = 0;
  private reason: string | null = null;
  private conn: (ClientConnection & { guacdClient: GuacdClient }) | null = null;
  private finished = false;
  private stallTimer: NodeJS.Timeout | null = null;
  readonly startedAt = new Date();

  constructor(
    private readonly deps: SessionDeps,
    readonly id: string,
    readonly target: DesktopRedeemResponse,
  ) {}

  /** The page's WebSocket, once upgraded. */
  ws: WebSocket | null = null;

  get user(): string {
    return this.target.user;
  }

  /** guacamole-lite opened the guacd socket (lite.ts hook). */
  attach(c: ClientConnection & { guacdClient: GuacdClient }): void {
    this.conn = c;
    const ws = c.webSocket;
    const g = c.guacdClient;
    g.on('data', (d: string) => {
      this.bytesOut += d.length;
      if (this.reason === null && d.includes('5.error,')) this.reason = 'target_error';
      if (ws.bufferedAmount > this.deps.bufferBytes) this.pause(g, ws);
    });
    ws.on('message', (m: Buffer) => {
      this.bytesIn += m.length;
    });
    c.on('close', (_c: unknown, err: unknown) => void this.finish(err));
  }

  /** The page is not reading: stop reading guacd until it does; end the desktop after the stall bound. */
  private pause(g: GuacdClient, ws: WebSocket): void {
    if (this.stallTimer) return;
    g.guacdConnection.pause();
    const since = Date.now();
    const check = () => {
      if (ws.bufferedAmount <= this.deps.bufferBytes / 2) {
        this.stallTimer = null;
        g.guacdConnection.resume();
      } else if (Date.now() - since > this.deps.stallMs) {
        this.stallTimer = null;
        this.end('client_stalled', 'the page stopped reading the desktop');
        // A page that reads nothing never receives the close frame either.
        ws.terminate();
      } else this.stallTimer = setTimeout(check, 50);
    };
    this.stallTimer = setTimeout(check, 50);
  }

  end(reason: string, message: string): void {
    if (this.finished) return;
    this.reason ??= reason;
    const ws = this.ws;
    try {
      if (ws?.readyState === ws?.OPEN) ws?.send(errorInstruction(message, STATUS.sessionClosed));
    } catch {
      // the page is gone; closing below is all that is left
    }
    if (this.conn) this.conn.close();
    else ws?.close(1000);
    void this.finish(undefined);
  }

  /** Reports the end to jmp-api once, with the recording when there is one. */
  async finish(err: unknown): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    const reason = this.reason ?? reasonOf(err);
    this.deps.desktops.remove(this);
    this.deps.desktops.release(this.user);
    this.deps.log.info(
      {
        session: this.id,
        user: this.user,
        host: this.target.host.hostname,
        reason,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
      },
      'desktop ended',
    );
    let recordingUri: string | undefined;
    try {
      recordingUri = await this.deps.onEnded?.(this);
    } catch (e) {
      this.deps.log.error({ err: e, session: this.id }, 'the recording could not be stored');
    }
    try {
      await this.deps.api.sessionEnded(this.id, {
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
        endReason: reason,
        ...(recordingUri ? { recordingUri } : {}),
      });
    } catch (e) {
      this.deps.log.warn({ err: e, session: this.id }, 'could not report the end of a desktop to jmp-api');
    }
  }
}
