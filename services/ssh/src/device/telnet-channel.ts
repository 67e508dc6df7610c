// A telnet connection shaped like the ssh2 channel the session pipe reads:
// data in and out (0xFF escaped as IAC IAC on the way out, unescaped on the way
// in, by telnet-stream), the window size sent with NAWS and updated on every
// resize, and option negotiation answered once per state change, so a device
// that floods options is cut off instead of looping with us.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { TelnetSocket } from 'telnet-stream';

const ECHO = 1;
const SGA = 3;
const TTYPE = 24;
const NAWS = 31;
const TTYPE_SEND = 1;
const TTYPE_IS = 0;

/** Negotiations in one second above which the device is cut off. */
export const OPTION_FLOOD_PER_SECOND = 200;

export class TelnetChannel extends EventEmitter {
  readonly stderr = Object.assign(new EventEmitter(), { pause() {}, resume() {} });
  private readonly ts: TelnetSocket;
  private naws = false;
  /** Our answers so far, per option: a request that would not change them is not answered again. */
  private readonly local = new Map<number, boolean>();
  private readonly remote = new Map<number, boolean>();
  private negotiations = 0;
  private windowStart = Date.now();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private size: { cols: number; rows: number; term: string },
  ) {
    super();
    this.ts = new TelnetSocket(socket);
    this.ts.on('data', (d: Buffer | string) => this.emit('data', Buffer.isBuffer(d) ? d : Buffer.from(d, 'latin1')));
    this.ts.on('do', (o: number) => this.negotiate() && this.answerLocal(o, o === NAWS || o === TTYPE));
    this.ts.on('dont', (o: number) => this.negotiate() && this.answerLocal(o, false));
    this.ts.on('will', (o: number) => this.negotiate() && this.answerRemote(o, o === ECHO || o === SGA));
    this.ts.on('wont', (o: number) => this.negotiate() && this.answerRemote(o, false));
    this.ts.on('sub', (o: number, b: Buffer) => {
      if (!this.negotiate()) return;
      if (o === TTYPE && b[0] === TTYPE_SEND)
        this.ts.writeSub(TTYPE, Buffer.concat([Buffer.from([TTYPE_IS]), Buffer.from(this.size.term.toUpperCase())]));
    });
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
    socket.on('error', (err) => this.emit('error', err));
  }

  /** Counts a negotiation; false (and the connection closed) when the device floods them. */
  private negotiate(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.negotiations = 0;
    }
    if (++this.negotiations <= OPTION_FLOOD_PER_SECOND) return true;
    if (!this.closed) {
      this.closed = true;
      this.emit('flood');
      this.socket.destroy();
    }
    return false;
  }

  private answerLocal(option: number, enable: boolean): void {
    if (this.local.get(option) === enable) return;
    this.local.set(option, enable);
    if (enable) this.ts.writeWill(option);
    else this.ts.writeWont(option);
    if (option === NAWS) {
      this.naws = enable;
      if (enable) this.sendSize();
    }
  }

  private answerRemote(option: number, enable: boolean): void {
    if (this.remote.get(option) === enable) return;
    this.remote.set(option, enable);
    if (enable) this.ts.writeDo(option);
    else this.ts.writeDont(option);
  }

  private sendSize(): void {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(Math.min(this.size.cols, 0xffff), 0);
    b.writeUInt16BE(Math.min(this.size.rows, 0xffff), 2);
    this.ts.writeSub(NAWS, b); // telnet-stream doubles a 255 byte in the value
  }

  /** Like ClientChannel.setWindow: the new size goes to the device with NAWS. */
  setWindow(rows: number, cols: number): void {
    this.size = { ...this.size, rows, cols };
    if (this.naws) this.sendSize();
  }

  write(data: Buffer | string): boolean {
    if (this.closed) return false;
    this.ts.write(typeof data === 'string' ? Buffer.from(data) : data);
    return true;
  }

  /** Hands text the login already read to the pipe (the device's first prompt). */
  replay(text: Buffer): void {
    if (text.length) this.emit('data', text);
  }

  pause(): this {
    this.socket.pause();
    return this;
  }

  resume(): this {
    this.socket.resume();
    return this;
  }

  end(): void {
    this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }
}
