// The console runs the organisation and a person serves herself, in headless
// Chromium against the real stack (lab host h1 with sshd + pam_jmp + jmp-agent,
// jmp-api, jmp-ssh, jmp-socket): an administrator creates a department, a
// project, a service and a user and gives the user ops on the service, from the
// keyboard (Enter submits); the user enrols TOTP with the QR page and a code
// computed here, sees her right "ops of shop/web", h1 as production with its
// agent's liveness apart, and opens a terminal on h1; the administrator watches
// that live session (output only, a typed command within a second, the person
// told in one line) and terminates it. Every page passes axe-core
// with no serious or critical violation; screenshots go to docs/screenshots/.
// Needs root; its own lab (JMP_LAB_PREFIX=jwb- JMP_LAB_NET=10.235.0 by default).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { addUser } from '../../services/api/test/harness.js';
import { accessible, typeAndEnter } from './page-checks.js';
import { totpCode } from '../../services/api/src/crypto/totp.js';

process.env.JMP_LAB_PREFIX ??= 'jwb-';
process.env.JMP_LAB_NET ??= '10.235.0';
process.env.JMP_LAB_DIR ??= '/run/jmp-web-lab';
const { startConsoleStack, newPage, loginAs, screenText, screenUntil, screenshot, until } = await import('./stack.js');
type ConsoleStack = Awaited<ReturnType<typeof startConsoleStack>>;

const ADMIN = { username: 'root-ada', password: 'ada password 123' };
const ERIN = { username: 'erin', password: 'erin password 12' };
const AUDREY = { username: 'audrey', password: 'audrey password 1' };
let c: ConsoleStack | undefined;

before(
  async () => {
    c = await startConsoleStack({ hosts: ['h1'] });
    await addUser(c.api.db, { username: ADMIN.username, password: ADMIN.password, is_admin: true });
    await addUser(c.api.db, { username: AUDREY.username, password: AUDREY.password, is_auditor: true });
  },
  { timeout: 180_000 },
);

after(async () => {
  await c?.close();
});

function ed25519Line(comment: string): string {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} ${comment}`;
}

test(
  'admin builds the organisation; the new user enrols TOTP, sees her rights and opens a terminal on h1',
  { timeout: 240_000 },
  async () => {
    const { page, context } = await newPage(c!);
    try {
      await loginAs(page, c!.url, ADMIN.username, ADMIN.password);

      // Organisation: department, project, service (Enter submits each form).
      await page.getByRole('link', { name: 'Organisation' }).click();
      await page.getByRole('heading', { name: 'Organisation', level: 1 }).waitFor();
      await accessible(page, 'organisation (empty)');
      // The API's rule, checked in the page: an empty name is refused with the field's label.
      await page.getByRole('button', { name: 'Create department' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: /^Department name: / })
        .waitFor();
      // Tab order follows the form: name, then "Part of", "Led by", then its button.
      await page.getByLabel('Department name', { exact: true }).focus();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'parentId');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'leaderId');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Create department');
      await typeAndEnter(page, 'Department name', 'web-team');
      await page.getByRole('cell', { name: 'web-team', exact: true }).waitFor();
      await typeAndEnter(page, 'Project name', 'shop');
      await page.getByRole('cell', { name: 'shop', exact: true }).waitFor();
      await page.getByLabel('In project').selectOption({ label: 'shop' });
      await typeAndEnter(page, 'Service name', 'web');
      await page.getByRole('cell', { name: 'web', exact: true }).waitFor();
      // The API's own refusal is shown as it words it: the name is taken.
      await typeAndEnter(page, 'Project name', 'shop');
      const refusal = await page
        .getByRole('alert')
        .filter({ hasText: /already|exists|taken/ })
        .first();
      await refusal.waitFor();

      // A user, then ops on shop/web.
      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByLabel('Username', { exact: true }).fill(ERIN.username);
      await page.getByLabel('Full name').fill('Erin Ops');
      await page.getByLabel('Initial password').fill(ERIN.password);
      await page.getByLabel('Initial password').press('Enter');
      await page.getByText(/User erin created \(uid \d+\)\./).waitFor();
      // Her SSH key, added by the administrator; a bad line is refused with the API's sentence.
      await page.getByText('Keys of erin').click();
      const keys = page.locator('details.user-keys[open]');
      await keys.getByLabel('Public key', { exact: true }).fill('ssh-ed25519 AAAA');
      await keys.getByRole('button', { name: 'Add key' }).click();
      await keys
        .getByRole('alert')
        .filter({ hasText: /^(Public key|body\.publicKey): / })
        .waitFor();
      await keys.getByLabel('Public key', { exact: true }).fill(ed25519Line('erin@laptop'));
      await keys.getByRole('button', { name: 'Add key' }).click();
      await keys.getByRole('cell', { name: 'erin@laptop', exact: true }).waitFor();
      await accessible(page, 'users');
      await screenshot(page, 'admin-users');

      await page.getByRole('link', { name: 'Organisation' }).click();
      await page.getByLabel('Person').selectOption({ label: ERIN.username });
      await page.getByLabel('Role', { exact: true }).selectOption('ops');
      await page.getByLabel('On', { exact: true }).selectOption({ label: 'service shop/web' });
      await page.getByRole('button', { name: 'Give role' }).click();
      await page.getByText('erin is now ops of shop/web.').first().waitFor();
      await accessible(page, 'organisation');
      await screenshot(page, 'admin-org');

      // h1 joins the new service (hosts are placed by their enrolment token or PATCH /v1/hosts).
      const svc = await c!.api.db('services').where({ name: 'web' }).first('id');
      await c!.api.db('hosts').where({ hostname: 'h1' }).update({ service_id: svc.id });

      // Hosts: production / non-production and the agent apart; an enrolment token with its install line.
      await page.getByRole('link', { name: 'Hosts', exact: true }).click();
      const h1 = page.getByRole('row').filter({ hasText: 'h1' });
      await h1.waitFor();
      assert.equal(await h1.getByLabel('Environment of h1').inputValue(), 'online');
      // The agent's first events may say degraded (no policy yet) until its first pull; then ok with its version.
      await until(
        "h1's agent is ok and reported its version",
        async () => {
          await page.reload();
          const r = page.getByRole('row').filter({ hasText: 'h1' });
          await r.waitFor();
          return (
            (await r.locator('[data-agent]').getAttribute('data-agent')) === 'ok' && /0\.1\.0/.test(await r.innerText())
          );
        },
        30_000,
        1000,
      );
      await page.getByLabel('What for').fill('new web hosts');
      await page.getByRole('button', { name: 'Create enrolment token' }).click();
      const line = await page.getByLabel('Install line').inputValue();
      assert.match(line, new RegExp(`jmp-agent enroll --api ${c!.url.replace(/[.]/g, '\\.')} --token \\S+$`));
      await accessible(page, 'hosts');
      await screenshot(page, 'admin-hosts');

      // Grants and request limits: a request limit refused in the page as the API would, then set.
      await page.getByRole('link', { name: 'Grants' }).click();
      await page.getByRole('heading', { name: 'Grants and request limits', level: 1 }).waitFor();
      await page.getByLabel('Limit on').selectOption({ label: 'service shop/web' });
      await page.getByLabel('For right').selectOption('root');
      await page.getByLabel('At most (hours)').fill('0');
      await page.getByRole('button', { name: 'Set limit' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: /must be at least 60 s/ })
        .waitFor();
      await page.getByLabel('At most (hours)').fill('4');
      await page.getByLabel('At most (hours)').press('Enter');
      await page.getByRole('cell', { name: '4 h' }).waitFor();
      await accessible(page, 'grants');
      await screenshot(page, 'admin-grants');

      // Audit log: the chain check.
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('cell', { name: 'user.created' }).first().waitFor();
      await page.getByRole('button', { name: 'Check the chain' }).click();
      await page.getByText(/^Chain verified up to entry \d+/).waitFor();
      await accessible(page, 'audit log');
      await screenshot(page, 'admin-audit');
    } finally {
      await context.close();
    }

    // Erin: TOTP with the QR page, her rights, h1 as production, a terminal.
    const erin = await newPage(c!);
    try {
      const p = erin.page;
      await loginAs(p, c!.url, ERIN.username, ERIN.password);
      const row = p.getByRole('row').filter({ hasText: 'h1' });
      await row.waitFor();
      const text = await row.innerText();
      assert.match(text, /production/);
      assert.doesNotMatch(text, /online/);
      assert.match(text, /login \+ root/);
      assert.match(text, /seen \d+ s ago, fail deny/);
      await accessible(p, 'my hosts');

      await p.getByRole('link', { name: 'My account' }).click();
      await p.getByRole('cell', { name: 'ops of shop/web' }).waitFor();
      await p.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await p.getByRole('img', { name: 'QR code of your TOTP seed for jmp' }).waitFor();
      const secret = (await p.locator('[data-totp-secret]').textContent())!.trim();
      await accessible(p, 'account (TOTP enrolment)');
      await screenshot(p, 'account-totp');
      await p.getByLabel('Code from the app').fill(totpCode(secret) === '000000' ? '111111' : '000000');
      await p.getByLabel('Code from the app').press('Enter');
      await p
        .getByRole('alert')
        .filter({ hasText: /wrong code/ })
        .waitFor();
      const code = totpCode(secret);
      await p.getByLabel('Code from the app').fill(code);
      await p.getByLabel('Code from the app').press('Enter');
      await p.getByText('Logins ask for a code from your authenticator app.').waitFor();
      const row2 = await c!.api.db('users').where({ username: ERIN.username }).first('totp_secret_enc');
      assert.ok(row2.totp_secret_enc, 'the seed is active');
      await accessible(p, 'account');

      // From now on her login asks for a code; then a terminal on h1.
      await p.getByRole('button', { name: 'Log out' }).click();
      await p.getByRole('heading', { name: 'Log in to jmp' }).waitFor();
      // A fresh code: the one used above is spent.
      await until('the next TOTP period', async () => totpCode(secret) !== code, 35_000, 500);
      await loginAs(p, c!.url, ERIN.username, ERIN.password, () => totpCode(secret));
      const h1host = c!.stack.lab.host('h1');
      await until(
        'h1 knows erin',
        async () => (await h1host.exec(['getent', 'passwd', ERIN.username])).stdout.includes(ERIN.username),
        30_000,
        200,
      );
      await p.getByRole('button', { name: 'Open a terminal on h1' }).click();
      await screenUntil(p, /erin@h1[^\n]*\$/, 60_000);
      await p.keyboard.type('sudo -n id -u\r', { delay: 5 });
      await screenUntil(p, /\$ sudo -n id -u\n+0\n/);

      // An administrator watches the live session: output only, the typed command within a second; then ends it.
      const adm = await newPage(c!);
      try {
        const a = adm.page;
        await loginAs(a, c!.url, ADMIN.username, ADMIN.password);
        await a.getByRole('link', { name: 'Live sessions' }).click();
        await a.getByRole('button', { name: 'Watch erin on h1' }).click();
        await a.getByText('Live: output appears as it happens.').waitFor();
        // The person is told in one line once jmp-ssh hears of the watch (next heartbeat).
        await screenUntil(p, /\[jmp\] an administrator is now watching this session \(read-only\)/, 10_000);
        assert.equal((await a.locator('.watch-screen textarea:not([disabled])').count()) <= 1, true);
        const marker = `watched-${Date.now() % 100000}`;
        const watchText = () =>
          a.locator('.watch-screen .xterm-rows').evaluate((el) => (el.textContent ?? '').replace(/\u00a0/g, ' '));
        await p.keyboard.type(`echo ${marker}`);
        // Enter runs it: its output line must reach the watcher within a second.
        const typedAt = Date.now();
        await p.keyboard.press('Enter');
        await until(
          'the watcher sees the command and its output',
          async () => (await watchText()).split(marker).length - 1 >= 2,
          5_000,
          20,
        );
        const seenMs = Date.now() - typedAt;
        assert.ok(seenMs <= 1000, `the command's output reached the watcher in ${seenMs} ms (at most 1000)`);
        console.log(`watch latency: ${seenMs} ms`);
        // Keys typed on the watching page go nowhere.
        await a.locator('.watch-screen').click();
        await a.keyboard.type('echo from-the-watcher\r');
        await new Promise((r) => setTimeout(r, 500));
        assert.doesNotMatch(await screenText(p), /from-the-watcher/);
        await accessible(a, 'live sessions (watching)');
        await screenshot(a, 'admin-live');
        const watched = await c!.api
          .db('audit_events')
          .where({ action: 'session.watch', actor: `user:${ADMIN.username}` });
        assert.equal(watched.length, 1, 'the watch is audited once');
        // An auditor sees the same, read-only: she may watch, there is nothing to change or end.
        const aud = await newPage(c!);
        try {
          await loginAs(aud.page, c!.url, AUDREY.username, AUDREY.password);
          await aud.page.getByRole('link', { name: 'Live sessions' }).click();
          await aud.page.getByRole('button', { name: 'Watch erin on h1' }).waitFor();
          assert.equal(await aud.page.getByRole('button', { name: /^Terminate/ }).count(), 0);
          await aud.page.getByRole('link', { name: 'Organisation' }).click();
          await aud.page.getByRole('cell', { name: 'web-team', exact: true }).waitFor();
          assert.equal(await aud.page.locator('main form').count(), 0, 'no forms for an auditor');
          await aud.page.getByRole('link', { name: 'Hosts', exact: true }).click();
          await aud.page.getByRole('row').filter({ hasText: 'h1' }).waitFor();
          assert.equal(await aud.page.getByRole('button', { name: /Reset enrolment/ }).count(), 0);
        } finally {
          await aud.context.close();
        }
        await a.getByRole('button', { name: 'Terminate erin on h1' }).click();
        await p
          .locator('.term-panel:not([hidden]) .term-status')
          .filter({ hasText: /^Session ended/ })
          .waitFor({ timeout: 15_000 });
        await screenUntil(p, /this session was ended: ended by an administrator/);
        await a.getByText('The session has ended.').waitFor({ timeout: 15_000 });
      } finally {
        await adm.context.close();
      }
    } finally {
      await erin.context.close();
    }
  },
);
