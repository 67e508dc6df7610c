// A tiny element builder: text always goes in as text nodes (never HTML), so
// names, command lines and reasons from the server cannot inject markup.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
}

/** A labelled form control; the label's `for` ties them together for screen readers. */
let nextId = 0;
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLElement {
  control.id ||= `f${++nextId}`;
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
  if (hint) {
    const hintEl = h('small', { id: `${control.id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    wrap.append(hintEl);
  }
  return wrap;
}

export function select(name: string, options: Array<[value: string, label: string]>, value = ''): HTMLSelectElement {
  const s = h('select', { name });
  for (const [v, l] of options) s.append(h('option', { value: v, selected: v === value }, l));
  return s;
}

/** A live region inside a form for its error or result sentence. */
export function message(): HTMLParagraphElement {
  return h('p', { class: 'message', role: 'alert', 'aria-live': 'assertive' });
}

export function setMessage(el: HTMLElement, text: string, kind: 'error' | 'ok' = 'error'): void {
  el.textContent = text;
  el.dataset.kind = kind;
}

/** A table with a header row; `rows` are arrays of cells. */
export function table(caption: string, head: string[], rows: Child[][], opts: { empty?: string } = {}): HTMLElement {
  if (!rows.length) return h('p', { class: 'empty' }, opts.empty ?? 'Nothing here.');
  const t = h('table', {}, h('caption', { class: 'sr-only' }, caption));
  t.append(h('thead', {}, h('tr', {}, ...head.map((x) => h('th', { scope: 'col' }, x)))));
  const body = h('tbody');
  for (const r of rows) {
    const tr = h('tr');
    r.forEach((cell, i) => tr.append(h('td', { 'data-label': head[i] ?? '' }, cell)));
    body.append(tr);
  }
  t.append(body);
  return h('div', { class: 'table-wrap' }, t);
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
export function toast(text: string): void {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.classList.add('shown');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('shown'), 4000);
}
