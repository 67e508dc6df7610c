// One terminal tab = one socket.io connection to jmp-socket's /terminal
// namespace (docs/web-terminal.md): `open` with the host (null: the jump
// menu) and the size, output written with back-pressure (each chunk is
// acknowledged once xterm has taken it), input, resize, login prompts shown
// as a small form, and the reason when it ends.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { io, type Socket } from 'socket.io-client';
import type { TerminalOpenAck, TerminalPrompt, TerminalExit } from '@jmp/contract/schemas/web';
import { h, field } from '../dom.js';

/** Fired on the tab's panel after each output chunk is in the terminal (detail: the bytes). */
export const OUTPUT_EVENT = 'terminal-output';

export type TabState = 'connecting' | 'open' | 'ended';

export interface TerminalTabEvents {
  onState(state: TabState, text: string): void;
}

export class TerminalTab {
  readonly panel: HTMLElement;
  private readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly socket: Socket;
  private readonly status: HTMLElement;
  private readonly screen: HTMLElement;
  private readonly resizeObserver: ResizeObserver;
  private promptForm: HTMLFormElement | null = null;
  state: TabState = 'connecting';

  constructor(
    readonly host: string | null,
    readonly id: string,
    private readonly events: TerminalTabEvents,
  ) {
    this.status = h('p', { class: 'term-status', role: 'status', 'aria-live': 'polite' }, 'Connecting…');
    this.screen = h('div', { class: 'term-screen' });
    this.panel = h(
      'div',
      { class: 'term-panel', role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}` },
      this.status,
      this.screen,
    );
    this.term = new Terminal({
      cursorBlink: false,
      fontFamily: '"DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 5000,
      screenReaderMode: false,
      theme: { background: '#101418', foreground: '#e6e6e6' },
    });
    this.term.loadAddon(this.fit);
    // F6 leaves the terminal (Tab itself belongs to the shell: completion).
    this.term.attachCustomKeyEventHandler((e) => {
      if (e.key === 'F6' && e.type === 'keydown') {
        document.getElementById(`tab-${id}`)?.focus();
        return false;
      }
      return true;
    });
    this.socket = io('/terminal', {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      autoConnect: false,
      timeout: 20_000,
    });
    this.resizeObserver = new ResizeObserver(() => this.refit());
  }

  /** Call once the panel is in the document. */
  start(): void {
    this.term.open(this.screen);
    this.refit();
    this.resizeObserver.observe(this.screen);
    this.term.onData((d) => {
      if (this.state === 'open') this.socket.emit('data', d);
    });
    this.term.onBinary((d) => {
      if (this.state !== 'open') return;
      this.socket.emit(
        'data',
        Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff),
      );
    });
    this.term.onResize(({ cols, rows }) => {
      if (this.state === 'open') this.socket.emit('resize', { cols, rows });
    });

    const s = this.socket;
    s.on('connect', () => {
      this.setStatus('connecting', this.host ? `Logging in to ${this.host}…` : 'Opening the jump menu…');
      const { cols, rows } = this.term;
      s.timeout(150_000).emit('open', { host: this.host, cols, rows }, (err: Error | null, ack?: TerminalOpenAck) => {
        if (err) return this.end('jmp-socket did not answer; close this tab and try again');
        if (!ack?.ok) return this.end(ack?.error ?? 'the terminal could not be opened');
        this.clearPrompt();
        this.setStatus('open', this.host ? `Connected to ${this.host}` : 'Jump menu');
        this.term.focus();
      });
    });
    s.on('data', (chunk: ArrayBuffer | Uint8Array, ack?: () => void) => {
      const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
      this.term.write(bytes, () => {
        ack?.();
        this.panel.dispatchEvent(new CustomEvent(OUTPUT_EVENT, { detail: bytes }));
      });
    });
    s.on('prompt', (p: TerminalPrompt) => this.showPrompt(p));
    s.on('exit', (e: TerminalExit) => this.end(e.reason));
    s.on('connect_error', (err: Error) => this.end(`refused: ${err.message}`));
    s.on('disconnect', (why: string) => {
      if (this.state !== 'ended')
        this.end(why === 'io client disconnect' ? 'closed' : 'the connection to jmp was lost');
    });
    s.connect();
  }

  focus(): void {
    if (this.promptForm) this.promptForm.querySelector('input')?.focus();
    else this.term.focus();
  }

  /** Fits the terminal to its box when it is visible (a hidden box measures 0×0). */
  refit(): void {
    if (!this.screen.offsetWidth || !this.screen.offsetHeight) return;
    try {
      this.fit.fit();
    } catch {
      /* not rendered yet */
    }
  }

  close(): void {
    this.state = 'ended';
    this.resizeObserver.disconnect();
    this.socket.close();
    this.term.dispose();
    this.panel.remove();
  }

  private end(reason: string): void {
    if (this.state === 'ended') return;
    this.clearPrompt();
    this.setStatus('ended', `Session ended: ${reason}`);
    this.term.options.cursorBlink = false;
    this.socket.close();
  }

  private setStatus(state: TabState, text: string): void {
    this.state = state;
    this.status.textContent = text;
    this.panel.dataset.state = state;
    this.events.onState(state, text);
  }

  /** jmp-ssh asks something (a second factor): a small form in the tab. */
  private showPrompt(p: TerminalPrompt): void {
    this.clearPrompt();
    const inputs = p.prompts.map((q) =>
      h('input', { type: q.echo ? 'text' : 'password', autocomplete: 'off', name: q.prompt }),
    );
    const form = h(
      'form',
      { class: 'term-prompt card', 'aria-label': p.name || 'Login prompt' },
      p.name ? h('h2', {}, p.name) : null,
      p.instructions ? h('p', {}, p.instructions) : null,
      ...p.prompts.map((q, i) => field(q.prompt.trim() || `Answer ${i + 1}`, inputs[i]!)),
      h('button', { type: 'submit', class: 'primary' }, p.prompts.length ? 'Send' : 'Continue'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.socket.emit(
        'answer',
        inputs.map((i) => i.value),
      );
      this.clearPrompt();
      this.term.focus();
    });
    this.promptForm = form;
    this.panel.insertBefore(form, this.screen);
    (inputs[0] ?? form.querySelector('button'))?.focus();
  }

  private clearPrompt(): void {
    this.promptForm?.remove();
    this.promptForm = null;
  }
}
