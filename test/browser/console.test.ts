// The web console in headless Chromium against the real stack (lab hosts h1
// and h2 with sshd + pam_jmp + jmp-agent, jmp-api, jmp-ssh, jmp-socket):
// log in with password + TOTP, a terminal on h1 (whoami, a blocked command),
// the session and its replay; bob asks for root on h2, the ops lead approves,
// and bob's new terminal runs sudo; refusals (wrong password, wrong TOTP,
// an expired session, a socket without a cookie); the phone layout and the
// keyboard. Screenshots go to docs/screenshots/.
// Needs root; its own lab: JMP_LAB_PREFIX=jwb- JMP_LAB_NET=10.235.0 JMP_LAB_DIR=/run/jmp-web-lab.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { addRole, addUser } from '../../services/api/test/harness.js';
import { newTotpSecret, totpCode } from '../../services/api/src/crypto/totp.js';
import { TOTP_PURPOSE } from '../../services/api/src/auth/login.js';

process.env.JMP_LAB_PREFIX ??= 'jwb-';
process.env.JMP_LAB_NET ??= '10.235.0';
process.env.JMP_LAB_DIR ??= '/run/jmp-web-lab';
// After the variables: lab.ts reads them when it is loaded.
const { startConsoleStack, newPage, loginAs, screenText, screenUntil, screenshot, expiredSessionCookie, until, PHONE } =
  await import('./stack.js');
type ConsoleStack = Awaited<ReturnType<typeof startConsoleStack>>;

let c: ConsoleStack | undefined;
const secret = newTotpSecret();
const PASSWORDS = {
  alice: 'alice password 1',
  bob: 'bob password 12',
  olga: 'olga password 1',
  dave: 'dave password 12',
  ada: 'ada password 123',
};
let dave: { id: number; username: string };

before(
  async () => {
    c = await startConsoleStack({ hosts: ['h1', 'h2'] });
    const { api, stack } = c;
    await stack.addPerson({
      username: 'alice',
      password: PASSWORDS.alice,
      totpSecretEnc: api.ctx.secrets.seal(secret, TOTP_PURPOSE),
      right: 'login',
      host: 'h1',
    });
    const daveId = await stack.addPerson({ username: 'dave', password: PASSWORDS.dave, right: 'login', host: 'h1' });
    dave = { id: daveId, username: 'dave' };
    await addUser(api.db, { username: 'bob', password: PASSWORDS.bob, display_name: 'Bob Builder' });
    const olga = await addUser(api.db, { username: 'olga', password: PASSWORDS.olga, display_name: 'Olga Ops' });
    await addRole(api.db, olga.id, 'service', stack.serviceId, 'ops', true);
    await addUser(api.db, { username: 'ada', password: PASSWORDS.ada, display_name: 'Ada Admin', is_admin: true });
    await api.db('command_rules').insert({
      name: 'no deleting /tmp/x',
      pattern: String.raw`\brm\s+-rf\s+/tmp/x\b`,
      action: 'block',
      severity: 'high',
    });
    // Only h1 knows alice and dave; h2 learns of bob once his request is approved.
    const h1 = stack.lab.host('h1');
    await Promise.all(stack.lab.hosts.map((h) => h.restartAgent()));
    await until(
      'h1 knows alice and dave',
      async () =>
        (await h1.exec(['getent', 'passwd', 'alice', 'dave'])).stdout.split('\n').filter((l) => l.includes(':'))
          .length === 2,
      30_000,
      200,
    );
  },
  { timeout: 180_000 },
);

after(async () => {
  await c?.close();
});

/** The tab of the selected terminal shows "Connected to …". */
async function terminalOpen(page: Page, host: string): Promise<void> {
  await page
    .locator('.term-panel:not([hidden]) .term-status')
    .filter({ hasText: `Connected to ${host}` })
    .waitFor({ timeout: 60_000 });
}

/** Keystrokes go to the selected terminal once its input has the focus. */
async function terminalFocused(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      document.activeElement?.classList.contains('xterm-helper-textarea') &&
      !document.activeElement.closest('[hidden]'),
  );
}

async function run(page: Page, line: string, expect: RegExp): Promise<string> {
  await page.keyboard.type(`${line}\r`, { delay: 5 });
  return screenUntil(page, expect);
}

test('wrong password and wrong TOTP code are refused with a sentence', { timeout: 60_000 }, async () => {
  const { page, context } = await newPage(c!);
  try {
    await page.goto(`${c!.url}/`);
    await page.getByRole('heading', { name: 'Log in to jmp' }).waitFor();
    assert.match(page.url(), /#\/login\?next=/);
    await screenshot(page, 'login');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('not her password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /wrong username or password|invalid/i })
      .waitFor();
    assert.equal(await page.getByLabel('Authenticator code').isVisible(), false, 'no TOTP step after a wrong password');

    await page.getByLabel('Password').fill(PASSWORDS.alice);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Authenticator code').waitFor();
    const good = totpCode(secret);
    await page.getByLabel('Authenticator code').fill(good === '123456' ? '654321' : '123456');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong or already used TOTP code' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'My hosts' }).count(), 0, 'still not logged in');
    const me = await page.evaluate(() => fetch('/v1/me').then((r) => r.status));
    assert.equal(me, 401, 'no session cookie was set');
  } finally {
    await context.close();
  }
});

test(
  'alice: password + TOTP → terminal on h1 → whoami, a blocked command → the session and its replay',
  { timeout: 180_000 },
  async () => {
    const { page, context } = await newPage(c!);
    try {
      await loginAs(page, c!.url, 'alice', PASSWORDS.alice, () => totpCode(secret));
      const cookie = (await context.cookies()).find((k) => k.name === 'jmp_session');
      assert.ok(cookie, 'session cookie set');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(
        await page.evaluate(() => document.cookie.includes('jmp_session')),
        false,
        'the page script cannot read the cookie',
      );

      const row = page.getByRole('row').filter({ hasText: 'h1' });
      await row.waitFor();
      assert.equal(await page.getByRole('row').filter({ hasText: 'h2' }).count(), 0, 'alice has no h2');
      await page.getByLabel('Search').fill('no-such-host');
      await page.getByText('No host matches your search.').waitFor();
      await page.getByLabel('Search').fill('h1');
      await screenshot(page, 'hosts');
      await page.getByRole('button', { name: 'Open a terminal on h1' }).click();
      await terminalOpen(page, 'h1');
      await terminalFocused(page);
      await screenUntil(page, /alice@h1[^\n]*\$/, 30_000);
      const who = await run(page, 'whoami', /\$ whoami\n+alice\n/);
      assert.match(who, /alice@h1/);
      await run(page, 'mkdir -p /tmp/x && echo made', /\nmade\n/);
      const blocked = await run(page, 'rm -rf /tmp/x', /blocked by rule "no deleting \/tmp\/x"/);
      assert.match(blocked, /no deleting \/tmp\/x/);
      await run(page, 'test -d /tmp/x && echo still-there', /\nstill-there\n/);
      await screenshot(page, 'terminal');

      // A second tab at once: the jump menu.
      await page.getByRole('link', { name: 'My hosts' }).click();
      await page.getByRole('button', { name: 'Open the jump menu' }).click();
      await page
        .locator('.term-panel:not([hidden]) .term-status')
        .filter({ hasText: 'Jump menu' })
        .waitFor({ timeout: 60_000 });
      await screenUntil(page, /h1/);
      assert.equal(await page.getByRole('tab').count(), 2);
      await page.getByRole('tab', { name: /h1/ }).click();
      await terminalFocused(page);
      await run(page, 'exit', /logout|exit/);
      await page
        .locator('.term-panel:not([hidden]) .term-status')
        .filter({ hasText: /^Session ended: session ended/ })
        .waitFor();

      const session = await until(
        'the h1 session ended in jmp-api',
        () =>
          c!.api
            .db('sessions as s')
            .join('hosts as h', 'h.id', 's.host_id')
            .where('h.hostname', 'h1')
            .whereNotNull('s.recording_uri')
            .first('s.id'),
        15_000,
      );
      await page.getByRole('link', { name: 'Sessions' }).click();
      await page.getByLabel('Host', { exact: true }).fill('h1');
      await page.getByLabel('Command verdict').selectOption('block');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/#\/sessions\?host=h1&verdict=block/);
      await page.getByText('1 session', { exact: true }).waitFor();
      const replayLink = page.getByRole('link', { name: /Replay the session of alice on h1/ });
      assert.equal(await replayLink.count(), 1);
      await replayLink.click();
      await page.waitForURL(new RegExp(`#/sessions/${session.id}$`));
      const commands = page.getByRole('list', { name: 'Commands' });
      await commands.getByRole('button', { name: /rm -rf \/tmp\/x/ }).waitFor();
      assert.match(await commands.getByRole('button', { name: /rm -rf \/tmp\/x/ }).innerText(), /block/);
      const whoami = commands.getByRole('button', { name: /^.*whoami/ });
      await until('the player is ready', () => whoami.isEnabled(), 15_000);
      await whoami.click();
      let shown = '';
      // The player's screen as one string (its rows are padded with spaces).
      const playerText = () =>
        page.locator('.player .ap-term').evaluate((el) => (el.textContent ?? '').replace(/\u00a0/g, ' '));
      await until(
        'the player shows the whoami line',
        async () => /alice@h1:~\$ whoami\s+alice\s/.test((shown = await playerText())),
        15_000,
        100,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; the player shows:\n${shown}`);
      });
      // Seek to the blocked command: the guard's message is in the replay.
      await commands.getByRole('button', { name: /test -d \/tmp\/x/ }).click();
      await until('the replay shows the block', async () => /blocked by rule/.test(await playerText()), 15_000, 100);
      await screenshot(page, 'replay');
    } finally {
      await context.close();
    }
  },
);

test(
  'bob asks for root on h2, the ops lead approves, bob runs sudo in a new web terminal',
  { timeout: 180_000 },
  async () => {
    const bob = await newPage(c!);
    const olga = await newPage(c!);
    try {
      await loginAs(bob.page, c!.url, 'bob', PASSWORDS.bob);
      await bob.page.getByText('You have no hosts yet').waitFor();
      await bob.page.getByRole('link', { name: 'Requests' }).click();
      await bob.page.getByLabel('On', { exact: true }).selectOption('host');
      await bob.page.getByLabel('Host name').fill('h2');
      await bob.page.getByLabel('Right', { exact: true }).selectOption('root');
      await bob.page.getByLabel('For', { exact: true }).selectOption('14400');
      // Empty reason: refused in the page with a sentence.
      await bob.page.getByRole('button', { name: 'Send request' }).click();
      await bob.page.getByRole('alert').filter({ hasText: 'Say why you need the access.' }).waitFor();
      await bob.page.getByLabel('Reason').fill('INC-42: disk full on h2');
      await bob.page.getByRole('button', { name: 'Send request' }).click();
      await bob.page
        .getByRole('alert')
        .filter({ hasText: /Request #\d+ sent/ })
        .waitFor();
      await bob.page.getByRole('row').filter({ hasText: 'host h2' }).filter({ hasText: 'pending' }).waitFor();

      await loginAs(olga.page, c!.url, 'olga', PASSWORDS.olga);
      await olga.page.getByRole('link', { name: 'Approvals' }).click();
      const card = olga.page.getByRole('article').filter({ hasText: 'bob asks for root on host h2' });
      await card.waitFor();
      await card.getByText('INC-42: disk full on h2').waitFor();
      await card.getByLabel('Note (optional)').fill('ok for the incident');
      await screenshot(olga.page, 'approvals');
      await card.getByRole('button', { name: /^Approve/ }).click();
      await olga.page.getByText('Nothing waits for you.').waitFor();

      // At once in bob's hosts, with root.
      await bob.page.getByRole('link', { name: 'My hosts' }).click();
      await bob.page.getByRole('button', { name: 'Open a terminal on h2' }).waitFor();
      const h2row = bob.page.getByRole('row').filter({ hasText: 'h2' });
      assert.match(await h2row.innerText(), /login \+ root/);
      // The agent on h2 learns of bob with its next policy pull (every second here).
      const h2 = c!.stack.lab.host('h2');
      await until(
        'h2 knows bob as a jmp user',
        async () => (await h2.exec(['id', '-Gn', 'bob'])).stdout.includes('jmp-users'),
        30_000,
        200,
      );
      await bob.page.getByRole('button', { name: 'Open a terminal on h2' }).click();
      await terminalOpen(bob.page, 'h2');
      await terminalFocused(bob.page);
      await screenUntil(bob.page, /bob@h2[^\n]*\$/, 30_000);
      const out = await run(bob.page, 'sudo -n id -u', /\$ sudo -n id -u\n+0\n/);
      assert.match(out, /\n0\n/);
    } finally {
      await bob.context.close();
      await olga.context.close();
    }
  },
);

test('an expired session and a socket without a cookie are refused', { timeout: 120_000 }, async () => {
  const { page, context } = await newPage(c!);
  try {
    await loginAs(page, c!.url, 'dave', PASSWORDS.dave);
    // No cookie: the terminal's handshake is refused and the tab says why.
    const saved = await context.cookies();
    await context.clearCookies();
    await page.getByRole('button', { name: 'Open a terminal on h1' }).click();
    const status = page.locator('.term-panel:not([hidden]) .term-status');
    await status.filter({ hasText: /^Session ended: refused: not logged in/ }).waitFor();
    assert.equal(await screenText(page).then((s) => s.trim()), '', 'nothing reached the terminal');

    // An expired session cookie: the handshake is refused, and the next API call sends the person to log in.
    await context.addCookies([
      { ...saved.find((k) => k.name === 'jmp_session')!, value: expiredSessionCookie(c!.api, dave) },
    ]);
    await page.getByRole('link', { name: 'My hosts' }).click();
    await page.getByRole('heading', { name: 'Log in to jmp' }).waitFor();
    await page
      .getByRole('alert')
      .filter({ hasText: /Your session has ended/ })
      .waitFor();
    assert.equal(await page.evaluate(() => fetch('/v1/me').then((r) => r.status)), 401);
    assert.equal(await page.getByRole('tab').count(), 0, 'terminals closed with the session');
    // The same cookie on a socket: refused by jmp-socket.
    const { connectTerminal } = await import('../../services/socket/test/stack.js');
    await assert.rejects(
      connectTerminal(c!.url, { cookie: `jmp_session=${expiredSessionCookie(c!.api, dave)}`, origin: c!.url }),
      /expired|log in/i,
    );
    await assert.rejects(connectTerminal(c!.url, { origin: c!.url }), /no jmp_session cookie/);
  } finally {
    await context.close();
  }
});

test(
  'a phone screen: the menu folds behind a button; login and navigation work from the keyboard',
  { timeout: 60_000 },
  async () => {
    const { page, context } = await newPage(c!, PHONE);
    try {
      await page.goto(`${c!.url}/#/login`);
      await page.getByLabel('Username').waitFor();
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute('name')),
        'username',
        'focus starts in the username field',
      );
      await page.keyboard.type('dave');
      await page.keyboard.press('Tab');
      await page.keyboard.type(PASSWORDS.dave);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'My hosts' }).waitFor();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= PHONE.width, `no horizontal scrolling (page is ${width}px wide)`);
      assert.equal(await page.getByRole('link', { name: 'Sessions' }).isVisible(), false, 'the menu is folded');
      const toggle = page.getByRole('button', { name: 'Menu', exact: true });
      await toggle.focus();
      await page.keyboard.press('Enter');
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      await page.getByRole('link', { name: 'Sessions' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'My sessions' }).waitFor();
      await page
        .waitForFunction(() => document.activeElement?.tagName === 'H1', null, { timeout: 5000 })
        .catch(() => assert.fail('focus moves to the new page heading'));
      await page.getByRole('link', { name: 'My hosts' }).waitFor({ state: 'hidden' });
      await screenshot(page, 'phone-sessions');
    } finally {
      await context.close();
    }
  },
);

test(
  'admin: create a command rule, test it against a sample line, disable it; hosts show their agent; log out',
  { timeout: 60_000 },
  async () => {
    const { page, context } = await newPage(c!);
    try {
      await loginAs(page, c!.url, 'ada', PASSWORDS.ada);
      await page.getByRole('link', { name: 'Rules' }).click();
      await page.getByLabel('Name', { exact: true }).fill('no shutdown');
      await page.getByLabel('Pattern (RE2)').fill(String.raw`^\s*(sudo\s+)?shutdown\b`);
      await page.getByLabel('Sample line').fill('sudo shutdown -h now');
      await page.getByRole('button', { name: 'Test' }).click();
      await page.getByText('Matches: this line would be blocked.').waitFor();
      await page.getByLabel('Sample line').fill('echo shutdown');
      await page.getByRole('button', { name: 'Test' }).click();
      await page.getByText('No match: this line would pass.').waitFor();
      await page.getByLabel('Pattern (RE2)').fill('(?<=x)y');
      await page.getByRole('button', { name: 'Test' }).click();
      await page.getByText(/RE2 cannot compile this pattern/).waitFor();
      await page.getByLabel('Pattern (RE2)').fill(String.raw`^\s*(sudo\s+)?shutdown\b`);
      await page.getByRole('button', { name: 'Create rule' }).click();
      await page.getByText('Rule "no shutdown" created and enabled.').waitFor();
      await page.getByRole('button', { name: 'Disable rule no shutdown' }).click();
      await page.getByRole('button', { name: 'Enable rule no shutdown' }).waitFor();
      const row = await c!.api.db('command_rules').where({ name: 'no shutdown' }).first();
      assert.equal(row.enabled, false);

      await page.getByRole('link', { name: 'Hosts', exact: true }).click();
      const h1 = page.getByRole('row').filter({ hasText: 'h1' });
      await h1.waitFor();
      assert.equal(await h1.locator('[data-agent]').getAttribute('data-agent'), 'ok', "h1's agent was seen recently");
      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByRole('cell', { name: 'bob', exact: true }).waitFor();

      // Logging out clears the cookie and the CSRF token; the console is closed again.
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Log in to jmp' }).waitFor();
      assert.equal(
        (await context.cookies()).some((k) => k.name === 'jmp_session'),
        false,
      );
      assert.equal(await page.evaluate(() => localStorage.getItem('jmp.csrf')), null);
      await page.goto(`${c!.url}/#/admin/rules`);
      await page.getByRole('heading', { name: 'Log in to jmp' }).waitFor();
      assert.match(page.url(), /#\/login\?next=%2Fadmin%2Frules$/);
    } finally {
      await context.close();
    }
  },
);
