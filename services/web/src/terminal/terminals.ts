// The terminal tabs: a tab list (arrow keys move between tabs, Delete closes
// one) above the panels. Tabs stay open while the person uses other pages.
import { h } from '../dom.js';
import { TerminalTab, type TabState } from './terminal-tab.js';

export class Terminals {
  private readonly tabs = new Map<string, { tab: TerminalTab; button: HTMLElement }>();
  private readonly list: HTMLElement;
  private readonly panels: HTMLElement;
  private readonly empty: HTMLElement;
  private active: string | null = null;
  private seq = 0;

  constructor(root: HTMLElement) {
    this.list = h('div', { role: 'tablist', 'aria-label': 'Open terminals', class: 'tablist' });
    this.panels = h('div', { class: 'panels' });
    this.empty = h('p', { class: 'empty' }, 'No terminal is open. Open one from My hosts.');
    root.append(
      h(
        'div',
        { class: 'page-head' },
        h('h1', { class: 'sr-only', tabindex: '-1' }, 'Terminals'),
        h('p', { class: 'hint' }, 'F6 moves from the terminal to its tab.'),
      ),
      this.list,
      this.panels,
      this.empty,
    );
    this.list.addEventListener('keydown', (e) => this.onKey(e));
  }

  get count(): number {
    return this.tabs.size;
  }

  open(host: string | null): TerminalTab {
    const id = `t${++this.seq}`;
    const label = host ?? 'jump menu';
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    const closeButton = h(
      'button',
      { type: 'button', class: 'tab-close', tabindex: '-1', 'aria-label': `Close the terminal on ${label}` },
      '×',
    );
    const button = h(
      'div',
      {
        role: 'tab',
        id: `tab-${id}`,
        'aria-controls': `panel-${id}`,
        'aria-selected': 'false',
        tabindex: '-1',
        class: 'tab',
        'data-host': host ?? '',
      },
      dot,
      h('span', {}, label),
      closeButton,
    );
    const tab = new TerminalTab(host, id, {
      onState: (state: TabState, text: string) => {
        button.dataset.state = state;
        button.title = text;
      },
    });
    button.addEventListener('click', (e) => {
      if (e.target === closeButton) this.close(id);
      else this.select(id);
    });
    this.tabs.set(id, { tab, button });
    this.list.append(button);
    this.panels.append(tab.panel);
    this.empty.hidden = true;
    this.select(id, false);
    tab.start();
    return tab;
  }

  select(id: string, focusTerminal = true): void {
    this.active = id;
    for (const [k, { tab, button }] of this.tabs) {
      const on = k === id;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      tab.panel.hidden = !on;
    }
    const t = this.tabs.get(id)?.tab;
    if (!t) return;
    if (focusTerminal) t.focus();
    requestAnimationFrame(() => t.refit());
  }

  /** Refits the visible terminal (the section was hidden while another page was shown). */
  shown(): void {
    const t = this.active ? this.tabs.get(this.active)?.tab : undefined;
    if (!t) return;
    t.focus();
    requestAnimationFrame(() => t.refit());
  }

  close(id: string): void {
    const entry = this.tabs.get(id);
    if (!entry) return;
    const ids = [...this.tabs.keys()];
    const i = ids.indexOf(id);
    entry.tab.close();
    entry.button.remove();
    this.tabs.delete(id);
    const next = ids[i + 1] ?? ids[i - 1];
    if (next && next !== id) this.select(next, false);
    else {
      this.active = null;
      this.empty.hidden = false;
    }
    if (this.active) this.tabs.get(this.active)!.button.focus();
  }

  closeAll(): void {
    for (const id of [...this.tabs.keys()]) this.close(id);
  }

  private onKey(e: KeyboardEvent): void {
    const ids = [...this.tabs.keys()];
    const i = this.active ? ids.indexOf(this.active) : -1;
    let to: string | undefined;
    if (e.key === 'ArrowRight') to = ids[(i + 1) % ids.length];
    else if (e.key === 'ArrowLeft') to = ids[(i - 1 + ids.length) % ids.length];
    else if (e.key === 'Home') to = ids[0];
    else if (e.key === 'End') to = ids.at(-1);
    else if (e.key === 'Delete' && this.active) {
      e.preventDefault();
      this.close(this.active);
      return;
    } else if ((e.key === 'Enter' || e.key === ' ') && this.active) {
      e.preventDefault();
      this.tabs.get(this.active)!.tab.focus();
      return;
    }
    if (!to) return;
    e.preventDefault();
    this.select(to, false);
    this.tabs.get(to)!.button.focus();
  }
}
