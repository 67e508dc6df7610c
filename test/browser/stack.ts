// The whole console stack for the browser suite and the web-echo benchmark:
// lab hosts with the real agent, jmp-api (+ SMTP), jmp-ssh, jmp-socket serving
// services/web/dist with /v1 passed to jmp-api (one origin, as behind nginx),
// and headless Chromium through playwright-core.
// Import this module only after JMP_LAB_* are set (lab.ts reads them on load);
// `labEnv()` sets this suite's defaults.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_DIR } from '../lab/lab.js';
import { startJumpStack, until, type JumpStack } from '../e2e/helpers.js';
import { startJmpSsh, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { startSocket, type RunningSocket } from '../../services/socket/test/stack.js';
import type { TestApi } from '../../services/api/test/harness.js';

export const WEB_DIST = join(REPO_DIR, 'services/web/dist');
export const SCREENSHOTS = join(REPO_DIR, 'docs/screenshots');
export const CHROMIUM = process.env.JMP_CHROMIUM ?? '/usr/bin/chromium';

export interface ConsoleStack {
  stack: JumpStack;
  api: TestApi;
  ssh: RunningSsh;
  socket: RunningSocket;
  browser: Browser;
  /** The console's origin (jmp-socket). */
  url: string;
  close(): Promise<void>;
}

export async function startConsoleStack(opts: { hosts?: string[] } = {}): Promise<ConsoleStack> {
  if (!existsSync(join(WEB_DIST, 'index.html')))
    throw new Error(
      `the console is not built: run make web-build (or npm run build -w services/web); ${WEB_DIST}/index.html is missing`,
    );
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium fonts-dejavu-core (scripts/apt/browser.txt)`);
  const stack = await startJumpStack({ hosts: opts.hosts ?? ['h1', 'h2'] });
  let ssh: RunningSsh | undefined, socket: RunningSocket | undefined, browser: Browser | undefined;
  const close = async () => {
    await browser?.close().catch(() => {});
    await socket?.close().catch(() => {});
    await ssh?.close().catch(() => {});
    await stack.close();
  };
  try {
    ssh = await startJmpSsh(stack.api);
    socket = await startSocket(stack.api, ssh, { webDir: WEB_DIST, proxyApi: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--disable-gpu',
        '--disable-dev-shm-usage',
        ...(process.env.JMP_CHROMIUM_FLAGS?.split(' ').filter(Boolean) ?? []),
      ],
    });
    return { stack, api: stack.api, ssh, socket, browser, url: socket.url, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function newPage(c: ConsoleStack, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await c.browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    ...(viewport === PHONE ? { isMobile: true, hasTouch: true } : {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/** Logs in through the form; `totp` is asked for only when given. */
export async function loginAs(
  page: Page,
  url: string,
  username: string,
  password: string,
  totp?: () => string,
): Promise<void> {
  await page.goto(`${url}/#/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  if (totp) {
    await page.getByLabel('Authenticator code').waitFor();
    await page.getByLabel('Authenticator code').fill(totp());
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.getByRole('heading', { name: 'My hosts' }).waitFor();
}

/** The visible text of the selected terminal tab's screen (xterm's DOM rows). */
export function screenText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const panel = document.querySelector('.term-panel:not([hidden])');
    const rows = panel?.querySelectorAll('.xterm-rows > div') ?? [];
    return [...rows].map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n');
  });
}

export async function screenUntil(page: Page, re: RegExp, ms = 20_000): Promise<string> {
  let last = '';
  try {
    return await until(
      `the terminal shows ${re}`,
      async () => {
        last = await screenText(page);
        return re.test(last) ? last : null;
      },
      ms,
      50,
    );
  } catch (err) {
    const status = await page
      .locator('.term-panel:not([hidden]) .term-status')
      .textContent()
      .catch(() => null);
    throw new Error(`${(err as Error).message}\nstatus: ${status}\nscreen:\n${last}`);
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** A session cookie signed with the api's key that expired a minute ago. */
export function expiredSessionCookie(api: TestApi, user: { id: number; username: string }): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign({ uid: user.id, csrf: 'x', iat: now - 3600, exp: now - 60 }, api.ctx.secrets.sessionKey, {
    algorithm: 'HS256',
    audience: 'jmp-session',
    subject: user.username,
  });
}

export { until };
