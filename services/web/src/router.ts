// A router on location.hash: "#/sessions/3f2…" → the sessions page with
// { id: "3f2…" }. Each page renders into <main>; the terminals live in their
// own section so that moving between pages never closes them.
export type Params = Record<string, string>;
export interface Page {
  title: string;
  /** Renders into `main`; `signal` aborts when the person leaves the page. */
  render(main: HTMLElement, params: Params, signal: AbortSignal): void | Promise<void>;
  /** Shows the terminals section instead of <main>. */
  terminals?: boolean;
}
interface Route {
  pattern: RegExp;
  keys: string[];
  page: Page;
}

const routes: Route[] = [];
let current: AbortController | null = null;

export function route(path: string, page: Page): void {
  const keys: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/:(\w+)/g, (_m, k: string) => {
      keys.push(k);
      return '([^/]+)';
    })}$`,
  );
  routes.push({ pattern, keys, page });
}

export const currentPath = (): string => location.hash.replace(/^#/, '').split('?')[0] || '/';

export function navigate(path: string): void {
  if (location.hash === `#${path}`) void render();
  else location.hash = path;
}

export function match(path: string): { page: Page; params: Params } | null {
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m)
      return { page: r.page, params: Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)])) };
  }
  return null;
}

type Guard = (path: string) => string | null;
let guard: Guard = () => null;
export function setGuard(g: Guard): void {
  guard = g;
}

export async function render(): Promise<void> {
  const path = currentPath();
  const redirect = guard(path);
  if (redirect && redirect !== path) {
    navigate(redirect);
    return;
  }
  const found = match(path) ?? match('/404')!;
  current?.abort();
  const ctl = new AbortController();
  current = ctl;
  const main = document.getElementById('main')!;
  const terms = document.getElementById('terminals')!;
  main.hidden = !!found.page.terminals;
  terms.hidden = !found.page.terminals;
  document.title = `${found.page.title} · jmp`;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (path === a.hash.slice(1) || (a.hash.slice(1) !== '/' && path.startsWith(`${a.hash.slice(1)}/`)))
      a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  try {
    await found.page.render(main, found.params, ctl.signal);
  } catch (err) {
    if (ctl.signal.aborted) return;
    main.replaceChildren();
    const p = document.createElement('p');
    p.className = 'message';
    p.dataset.kind = 'error';
    p.setAttribute('role', 'alert');
    p.textContent = (err as Error).message;
    main.append(p);
  }
  // Keyboard and screen-reader users land on the new page's heading.
  if (ctl.signal.aborted) return;
  const area = found.page.terminals ? terms : main;
  if (!area.contains(document.activeElement))
    (found.page.terminals
      ? terms.querySelector<HTMLElement>('[role=tab][aria-selected=true]')
      : main.querySelector<HTMLElement>('h1')
    )?.focus();
}

export function start(): void {
  window.addEventListener('hashchange', () => void render());
  void render();
}
