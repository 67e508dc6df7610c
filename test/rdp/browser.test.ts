// The console's Desktop page in headless Chromium, through jmp-rdp, real guacd
// and xrdp in a lab host: a Windows-style host (typed credentials, a local
// account on the xrdp host). The desktop must really be drawn: the canvas
// holds many colours, not one.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_DIR } from '../lab/lab.js';
import { PASSWORD } from '../../services/rdp/test/stack.js';
import { ACCOUNT, startWindowsLab, type WindowsLab } from './windows-lab.js';
import { startFront } from './front.js';

const WEB_DIST = join(REPO_DIR, 'services/web/dist');
const SCREENSHOTS = join(REPO_DIR, 'docs/screenshots');
const CHROMIUM = process.env.JMP_CHROMIUM ?? '/usr/bin/chromium';
let w: WindowsLab, browser: Browser;
let front: Awaited<ReturnType<typeof startFront>>;
const work = mkdtempSync(join(tmpdir(), 'jmp-rdp-browser-'));

before(async () => {
  if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error('the console is not built: make web-build');
  w = await startWindowsLab(work);
  front = await startFront({ webDir: WEB_DIST, apiUrl: w.api.url, rdpUrl: w.rdp.url.replace(/^ws/, 'http') });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--disable-gpu', '--disable-dev-shm-usage'],
  });
});
after(async () => {
  await browser?.close().catch(() => {});
  await front?.close();
  await w?.close();
});

async function logIn(page: Page, username: string) {
  await page.goto(`${front.url}/#/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForFunction(() => !location.hash.startsWith('#/login'));
}

/** Distinct colours on a grid over the desktop's canvases (one colour = nothing drawn). */
const colours = (page: Page) =>
  page.evaluate(() => {
    const seen = new Set<string>();
    for (const c of document.querySelectorAll<HTMLCanvasElement>('.desktop-screen canvas')) {
      if (c.width < 100 || c.height < 100) continue;
      const ctx = c.getContext('2d');
      if (!ctx) continue;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let y = 0; y < c.height; y += 3)
        for (let x = 0; x < c.width; x += 3) {
          const i = (y * c.width + x) * 4;
          seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
        }
    }
    return seen.size;
  });

describe('Desktop page', () => {
  test('a Windows-style host: typed credentials, the desktop is drawn in the page', async () => {
    const p = await w.person();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    try {
      await logIn(page, p.u.username);
      await page.goto(`${front.url}/#/desktop/${p.h.hostname}`);
      await page.getByLabel('User').fill(ACCOUNT.name);
      await page.getByLabel('Password').fill(ACCOUNT.password);
      await page.getByRole('button', { name: 'Connect' }).click();
      await page.locator('.desktop-screen[data-state="connected"]').waitFor({ state: 'attached', timeout: 20_000 });
      let n = 0;
      for (let i = 0; i < 160 && n < 2; i++) {
        await page.waitForTimeout(250);
        n = await colours(page);
      }
      assert.ok(n >= 2, `the canvas shows ${n} colour(s): nothing was drawn`);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'desktop.png') });
      assert.equal(await page.locator('input[type=password]').count(), 0, 'the password field is gone');

      // Leaving the page closes the desktop; its recording goes to the store, then the console replays it.
      await page.goto(`${front.url}/#/hosts`);
      let row: { id: string } | undefined;
      for (let i = 0; i < 100 && !row; i++) {
        row = await w.api
          .db('sessions')
          .join('users', 'users.id', 'sessions.user_id')
          .where({ 'users.username': p.u.username })
          .whereNotNull('recording_uri')
          .first('sessions.id');
        if (!row) await page.waitForTimeout(100);
      }
      assert.ok(row, 'the desktop session has a recording');
      await page.goto(`${front.url}/#/desktop-replay/${row.id}`);
      const player = page.locator('.desktop-screen[data-state="loaded"]');
      await player.waitFor({ state: 'attached', timeout: 15_000 }).catch(async (err: unknown) => {
        throw new Error(`${String(err).slice(0, 100)} page: ${(await page.locator('main').innerText()).slice(0, 500)}`);
      });
      const duration = Number(await player.getAttribute('data-duration'));
      assert.ok(duration > 0, `replay duration ${duration} ms`);
      await page.getByRole('button', { name: 'Play' }).click();
      await page.getByRole('button', { name: 'Pause' }).waitFor();
    } finally {
      await context.close();
    }
  });

  test('a host the person has no right on: the page says so and nothing reaches guacd', async () => {
    const p = await w.person(false);
    const opened = () => (w.guacd.log().match(/Creating new client/g) ?? []).length;
    const before = opened();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await logIn(page, p.u.username);
      await page.goto(`${front.url}/#/desktop/${p.h.hostname}`);
      await page
        .getByText(/no login right/)
        .first()
        .waitFor({ timeout: 10_000 });
      assert.equal(await page.locator('.desktop-screen').count(), 0);
      assert.equal(opened(), before, 'guacd opened no connection');
    } finally {
      await context.close();
    }
  });
});
