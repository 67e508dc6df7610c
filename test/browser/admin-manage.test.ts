// The rest of the console's administration, in headless Chromium against the
// real stack: an administrator registers a host in one service and moves it
// to another (the service filter lists it there), makes an enrolment token for
// a service (its install line shown once) and revokes it, sets a department's
// leader and a member, turns an ops role into ops lead in place, changes a
// grant's end in place, and runs a network device end to end (vendor profile,
// device, account, secret); the secret never appears in what the page reads
// back. Refusals show the API's sentence; Enter submits; axe-core finds no
// serious or critical violation; an auditor sees every page without a control
// that changes anything. Screenshots go to docs/screenshots/.
// Needs root; its own lab (JMP_LAB_PREFIX=jwb- JMP_LAB_NET=10.235.0 by default).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { generateDeviceKeyPair } from '@jmp/contract/device-secrets';
import { addUser } from '../../services/api/test/harness.js';
import { accessible, typeAndEnter } from './page-checks.js';

process.env.JMP_LAB_PREFIX ??= 'jwb-';
process.env.JMP_LAB_NET ??= '10.235.0';
process.env.JMP_LAB_DIR ??= '/run/jmp-web-lab';
const { startConsoleStack, newPage, loginAs, screenshot } = await import('./stack.js');
type ConsoleStack = Awaited<ReturnType<typeof startConsoleStack>>;

const ADMIN = { username: 'root-max', password: 'max password 1234' };
const AUDITOR = { username: 'auda', password: 'auda password 123' };
const SECRET = 'Sw1tch-secret-7f3a!';
let c: ConsoleStack | undefined;

before(
  async () => {
    c = await startConsoleStack({ hosts: ['h1'] });
    await addUser(c.api.db, { username: ADMIN.username, password: ADMIN.password, is_admin: true });
    await addUser(c.api.db, { username: AUDITOR.username, password: AUDITOR.password, is_auditor: true });
    await addUser(c.api.db, { username: 'lena', password: 'lena password 123' });
    await addUser(c.api.db, { username: 'mistake', password: 'mistake password 1' });
  },
  { timeout: 180_000 },
);

after(async () => {
  await c?.close();
});

/** The sentence of the toast line (results and refusals of in-place changes). */
const toastSays = (page: Page, re: RegExp) => page.locator('#toast').filter({ hasText: re }).waitFor();

async function openPage(page: Page, link: string, title: string): Promise<void> {
  await page.getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor();
}

/** What a page changes with: forms other than search filters, selects outside them, buttons other than disclosure. */
async function writeControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const main = document.querySelector('main')!;
    const found: string[] = [];
    for (const f of main.querySelectorAll('form:not([role="search"])')) found.push(`form ${f.id || f.className}`);
    for (const s of main.querySelectorAll('select, textarea, input:not([type="search"])'))
      if (!s.closest('form[role="search"]') && !(s as HTMLInputElement).readOnly)
        found.push(`${s.tagName.toLowerCase()} ${s.getAttribute('aria-label') ?? s.getAttribute('name')}`);
    for (const b of main.querySelectorAll('button')) found.push(`button ${b.textContent}`);
    return found;
  });
}

test(
  'an administrator runs hosts, enrolment, departments, roles, grants and network devices; an auditor only reads',
  { timeout: 300_000 },
  async () => {
    const db = c!.api.db;
    const { page, context } = await newPage(c!);
    try {
      await loginAs(page, c!.url, ADMIN.username, ADMIN.password);

      // Organisation: a project with two services, a department led by lena, lena's role made ops lead in place.
      await openPage(page, 'Organisation', 'Organisation');
      await typeAndEnter(page, 'Project name', 'pay');
      await page.getByRole('cell', { name: 'pay', exact: true }).waitFor();
      for (const name of ['api', 'ledger']) {
        await page.getByLabel('In project').selectOption({ label: 'pay' });
        await typeAndEnter(page, 'Service name', name);
        await page.getByRole('cell', { name: `pay/${name}`, exact: true }).waitFor();
      }
      await page.getByLabel('Led by').selectOption({ label: 'lena' });
      await typeAndEnter(page, 'Department name', 'netops');
      await page.getByRole('cell', { name: 'netops', exact: true }).waitFor();
      assert.equal(await page.getByLabel('Leader of netops').inputValue(), String((await userId('lena')) ?? ''));
      // The leader changes in place; "nobody" clears it.
      await page.getByLabel('Leader of netops').selectOption({ label: '— none —' });
      await toastSays(page, /^Nobody now leads netops\.$/);
      assert.equal((await db('departments').where({ name: 'netops' }).first('leader_id')).leader_id, null);
      await page.getByLabel('Leader of netops').selectOption({ label: 'lena' });
      await toastSays(page, /^lena now leads netops\.$/);
      assert.equal(
        (await db('departments').where({ name: 'netops' }).first('leader_id')).leader_id,
        await userId('lena'),
      );
      // A department cannot be part of itself's child: the API's sentence is shown.
      await typeAndEnter(page, 'Department name', 'netops-east');
      await page.getByLabel('Department netops-east is part of').selectOption({ label: 'netops' });
      await toastSays(page, /^netops-east is now part of netops\.$/);
      await page.getByLabel('Department netops is part of').selectOption({ label: 'netops-east' });
      await toastSays(page, /cycle/);
      // Renamed in place (Enter saves).
      const rename = page.getByLabel('New name of department netops-east', { exact: true });
      await rename.fill('netops-west');
      await rename.press('Enter');
      await page.getByRole('cell', { name: 'netops-west', exact: true }).waitFor();
      // Roles: ops on pay/api, then ops lead in place.
      await page.getByLabel('Person').selectOption({ label: 'lena' });
      await page.getByLabel('Role', { exact: true }).selectOption('ops');
      await page.getByLabel('On', { exact: true }).selectOption({ label: 'service pay/api' });
      await page.getByRole('button', { name: 'Give role' }).click();
      await page.getByText('lena is now ops of pay/api.').first().waitFor();
      await page.getByLabel('Role of lena on pay/api').selectOption('lead');
      await toastSays(page, /^lena is now ops lead of pay\/api\.$/);
      const role = await db('roles')
        .where({ user_id: await userId('lena') })
        .first('role', 'ops_lead');
      assert.deepEqual({ ...role }, { role: 'ops', ops_lead: true });

      // Users: lena joins netops from her row; the department lists her as a member.
      await openPage(page, 'Users', 'Users');
      await page.getByLabel('Department of lena').selectOption({ label: 'netops' });
      await toastSays(page, /^lena is now in netops\.$/);
      // Her other details, from her row: the API's email rule is checked in the page first.
      await page.locator('summary', { hasText: 'Change lena' }).click();
      const email = page.getByLabel('Email of lena', { exact: true });
      await email.fill('lena at example');
      await email.press('Enter');
      await page
        .getByRole('alert')
        .filter({ hasText: /^Email of lena: must be an email address$/ })
        .waitFor();
      await email.fill('lena@example.org');
      await email.press('Enter');
      await toastSays(page, /^lena saved\.$/);
      assert.equal((await db('users').where({ username: 'lena' }).first('email')).email, 'lena@example.org');
      // A mistaken account: disabled first, then deleted for good (the page asks before).
      await page.getByRole('button', { name: 'Disable mistake' }).click();
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Delete mistake for good' }).click();
      await page.getByRole('cell', { name: 'mistake', exact: true }).waitFor({ state: 'detached' });
      assert.equal((await db('users').where({ username: 'mistake' })).length, 0);
      await accessible(page, 'users (department and rights)');
      await openPage(page, 'Organisation', 'Organisation');
      assert.equal(await page.locator('[data-members="netops"]').innerText(), 'lena');
      await accessible(page, 'organisation (leaders, members, roles in place)');
      await screenshot(page, 'admin-departments');

      // Hosts: register web-9 in pay/api (keyboard: tab order, Enter), move it to pay/ledger, see it listed there.
      await openPage(page, 'Hosts', 'Hosts');
      await page.getByLabel('Host name', { exact: true }).focus();
      const order: string[] = [];
      for (let i = 0; i < 6; i++) {
        await page.keyboard.press('Tab');
        order.push(
          await page.evaluate(
            () => document.activeElement?.getAttribute('name') ?? document.activeElement?.textContent ?? '',
          ),
        );
      }
      assert.deepEqual(order, ['addresses', 'serviceId', 'state', 'kind', 'enrolmentTokenId', 'Register host']);
      await page.getByLabel('Service', { exact: true }).selectOption({ label: 'pay/api' });
      await page.getByLabel('Environment', { exact: true }).selectOption('offline');
      await page.getByLabel('Addresses', { exact: true }).fill('10.9.9.9, not-an-ip');
      await typeAndEnter(page, 'Host name', 'web-9');
      // The API's rule, checked in the page and named by the field's label.
      await page
        .getByRole('alert')
        .filter({ hasText: /^Addresses: must be an IPv4 or IPv6 address/ })
        .waitFor();
      await page.getByLabel('Addresses', { exact: true }).fill('10.9.9.9');
      await page.getByLabel('Host name', { exact: true }).press('Enter'); // the name typed above stays
      await page.getByText('web-9 registered in pay/api.').waitFor();
      const inService = page.getByLabel('In service');
      await inService.selectOption({ label: 'pay/api' });
      const row = page.getByRole('row').filter({ hasText: 'web-9' });
      await row.waitFor();
      assert.equal(await row.getByLabel('Environment of web-9').inputValue(), 'offline');
      await row.getByLabel('Service of web-9').selectOption({ label: 'pay/ledger' });
      await toastSays(page, /^web-9 is now in pay\/ledger\.$/);
      await page.getByText('No host matches.').waitFor(); // not in pay/api any more
      await inService.selectOption({ label: 'pay/ledger' });
      await page.getByRole('row').filter({ hasText: 'web-9' }).waitFor();
      const ledger = await db('services').where({ name: 'ledger' }).first('id');
      assert.equal((await db('hosts').where({ hostname: 'web-9' }).first('service_id')).service_id, ledger.id);
      // Its other settings: a second address, from the row's form.
      await page.locator('summary', { hasText: 'Change web-9' }).click();
      await page.getByLabel('Addresses of web-9', { exact: true }).fill('10.9.9.9, 10.9.9.10');
      await page.getByLabel('Addresses of web-9', { exact: true }).press('Enter');
      await page.getByRole('cell', { name: '10.9.9.9, 10.9.9.10', exact: true }).waitFor();
      // A second web-9 is refused by the API, in its words.
      await typeAndEnter(page, 'Host name', 'web-9');
      await page.getByRole('alert').filter({ hasText: 'a host with this name already exists' }).waitFor();

      // Enrolment: a token for pay/ledger, its install line, listed as active, then revoked.
      await page.getByLabel('Hosts it may enrol').fill('0');
      await page.getByLabel('Hosts it may enrol').press('Enter');
      await page
        .getByRole('alert')
        .filter({ hasText: /^Hosts it may enrol: / })
        .waitFor();
      await page.getByLabel('Hosts it may enrol').fill('2');
      await page.getByLabel('Into service').selectOption({ label: 'pay/ledger' });
      await typeAndEnter(page, 'What for', 'ledger hosts');
      await page.getByText(/^Token #\d+ for 2 host\(s\) into pay\/ledger/).waitFor();
      const line = await page.getByLabel('Install line').inputValue();
      assert.match(line, /jmp-agent enroll --api \S+ --token jmpe_\S+$/);
      const tokenRow = page.getByRole('row').filter({ hasText: 'ledger hosts' });
      assert.match(await tokenRow.innerText(), /pay\/ledger/);
      assert.equal(await tokenRow.locator('[data-token-state]').getAttribute('data-token-state'), 'active');
      assert.equal(
        (await db('enrolment_tokens').where({ description: 'ledger hosts' }).first('service_id')).service_id,
        ledger.id,
      );
      await accessible(page, 'hosts (register, services, enrolment tokens)');
      await screenshot(page, 'admin-hosts-services');
      await tokenRow.getByRole('button', { name: /^Revoke enrolment token #\d+$/ }).click();
      await page.getByRole('row').filter({ hasText: 'ledger hosts' }).locator('[data-token-state="revoked"]').waitFor();

      // Rules: an allow-list rule on one service, then deleted.
      await openPage(page, 'Rules', 'Command rules');
      await page.getByLabel('Name', { exact: true }).fill('only show');
      await page.getByLabel('List', { exact: true }).selectOption('allow');
      await page.getByLabel('Applies to', { exact: true }).selectOption({ label: 'service pay/api' });
      await typeAndEnter(page, 'Pattern (RE2)', '^show ');
      await page.getByText('Rule "only show" created and enabled.').waitFor();
      const ruleRow = page.getByRole('row').filter({ hasText: 'only show' });
      assert.match(await ruleRow.innerText(), /allow\s+service pay\/api/);
      // Changed in place: RE2 in jmp-api refuses a pattern it cannot compile, in its words.
      await ruleRow.locator('summary', { hasText: 'Change rule only show' }).click();
      const rulePattern = page.getByLabel('Pattern of rule only show', { exact: true });
      await rulePattern.fill('^show (?=run)');
      await rulePattern.press('Enter');
      await page
        .getByRole('alert')
        .filter({ hasText: /RE2 cannot compile this pattern/ })
        .waitFor();
      await rulePattern.fill('^show (run|ip) ');
      await rulePattern.press('Enter');
      await toastSays(page, /^Rule "only show" saved\.$/);
      assert.equal(
        (await db('command_rules').where({ name: 'only show' }).first('pattern')).pattern,
        '^show (run|ip) ',
      );
      page.once('dialog', (d) => void d.accept());
      await ruleRow.getByRole('button', { name: 'Delete rule only show' }).click();
      await page.getByRole('row').filter({ hasText: 'only show' }).waitFor({ state: 'detached' });
      await accessible(page, 'rules');

      // Grants: login for lena on web-9, its end changed in place (Enter saves); an end before the start is refused.
      await openPage(page, 'Grants', 'Grants and request limits');
      await page.getByLabel('To', { exact: true }).selectOption({ label: 'user lena' });
      await page.getByLabel('Right', { exact: true }).selectOption('login');
      await page.getByLabel('On', { exact: true }).selectOption({ label: 'host web-9' });
      await page.getByRole('button', { name: 'Grant', exact: true }).click();
      const made = await page
        .locator('#toast')
        .filter({ hasText: /^Grant #\d+ made\.$/ })
        .innerText();
      const grantId = Number(/#(\d+)/.exec(made)![1]);
      const expiry = page.getByLabel(`Expiry of grant #${grantId}`, { exact: true });
      await expiry.fill('2099-05-06T07:08');
      await expiry.press('Enter');
      await toastSays(page, new RegExp(`^Grant #${grantId} now ends `));
      const until = (await db('grants').where({ id: grantId }).first('valid_until')).valid_until as Date;
      assert.equal(until.getTime(), new Date('2099-05-06T07:08').getTime());
      await page.getByLabel(`Expiry of grant #${grantId}`, { exact: true }).fill('2001-01-01T00:00');
      await page.getByRole('button', { name: `Save expiry of grant #${grantId}` }).click();
      await toastSays(page, /must be after validFrom/);
      await accessible(page, 'grants (end in place)');
      await screenshot(page, 'admin-grants-edit');

      // Network devices: what the page reads back is recorded, to show the secret is never among it.
      const bodies: Array<Promise<string>> = [];
      page.on('response', (r) => {
        if (new URL(r.url()).pathname.startsWith('/v1/')) bodies.push(r.text().catch(() => ''));
      });
      await openPage(page, 'Network devices', 'Network devices');
      await accessible(page, 'network devices (seeded profiles)');
      const spec = page.getByLabel('Specification (JSON)');
      await spec.fill('{"mode": ');
      await typeAndEnter(page, 'Profile name', 'lab-switch');
      await page
        .getByRole('alert')
        .filter({ hasText: /^Profile \(JSON\): / })
        .waitFor();
      await spec.fill('{"mode": "deny-list", "rules": [{"name": "no reload", "pattern": "^reload("}]}');
      await page.getByLabel('Profile name', { exact: true }).press('Enter'); // the name typed above stays
      await page
        .getByRole('alert')
        .filter({ hasText: /body\.spec\.rules\.0\.pattern: RE2 cannot compile/ })
        .waitFor(); // RE2, in jmp-api
      await spec.fill('{"mode": "deny-list", "rules": [{"name": "no reload", "pattern": "^reload"}]}');
      await page.getByLabel('Profile name', { exact: true }).press('Enter');
      await page.getByRole('row').filter({ hasText: 'lab-switch' }).getByText('deny-list, 1 rule').waitFor();

      await page.getByLabel('Vendor profile', { exact: true }).selectOption({ label: 'lab-switch' });
      await page.getByLabel('Device service', { exact: true }).selectOption({ label: 'pay/api' });
      await page.getByLabel('Device address', { exact: true }).fill('10.20.0.1');
      await typeAndEnter(page, 'Device name', 'SW-1');
      await toastSays(page, /^sw-1 registered; add the account jmp-ssh logs in with\.$/);
      const accounts = page.locator('details[data-device="sw-1"]');
      await typeAndEnter(page, 'Account name on sw-1', 'netadmin');
      await accounts.getByRole('cell', { name: 'netadmin', exact: true }).waitFor();
      // No device key registered yet: the API says so, in its words.
      const secret = page.getByLabel('New secret of netadmin on sw-1');
      await secret.fill(SECRET);
      await secret.press('Enter');
      await toastSays(page, /no device key is registered yet/);
      await db('device_keys').insert({ version: 1, public_key: generateDeviceKeyPair().publicKey });
      await secret.fill(SECRET);
      await secret.press('Enter');
      await toastSays(page, /^Secret of netadmin on sw-1 set; it cannot be read back\.$/);
      await accounts.getByRole('button', { name: 'Rotate the secret of netadmin on sw-1' }).waitFor();
      // Moved in place; the port changed with the edit form.
      await page.getByLabel('Service of sw-1').selectOption({ label: 'pay/ledger' });
      await toastSays(page, /^sw-1 saved\.$/);
      await page.getByLabel('Port of sw-1').fill('2222');
      await page.getByLabel('Port of sw-1').press('Enter');
      await page.getByRole('cell', { name: 'ssh 10.20.0.1:2222' }).waitFor();
      const dev = await db('devices').where({ name: 'sw-1' }).first('service_id', 'port');
      assert.deepEqual({ ...dev }, { service_id: ledger.id, port: 2222 });
      await accessible(page, 'network devices');
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'admin-devices');
      const read = await Promise.all(bodies);
      assert.ok(read.length > 5, 'the page read the devices back');
      for (const b of read) assert.ok(!b.includes(SECRET), 'the secret never comes back from jmp-api');
      const sealed = await db('device_accounts').where({ name: 'netadmin' }).first('sealed_secret');
      assert.ok(sealed.sealed_secret && !sealed.sealed_secret.includes(Buffer.from(SECRET)), 'stored sealed');
    } finally {
      await context.close();
    }

    // The auditor: every admin page, everything readable, nothing that changes anything.
    const aud = await newPage(c!);
    try {
      const p = aud.page;
      await loginAs(p, c!.url, AUDITOR.username, AUDITOR.password);
      await openPage(p, 'Network devices', 'Network devices');
      await p.getByRole('cell', { name: 'sw-1', exact: true }).waitFor();
      await p.locator('details[data-device="sw-1"] > summary').click();
      await p.getByRole('cell', { name: 'netadmin', exact: true }).waitFor();
      assert.deepEqual(await writeControls(p), [], 'network devices: no write controls');
      await accessible(p, 'network devices (auditor)');
      await screenshot(p, 'admin-devices-auditor');
      await openPage(p, 'Hosts', 'Hosts');
      await p.getByRole('row').filter({ hasText: 'web-9' }).waitFor();
      await p.getByRole('row').filter({ hasText: 'ledger hosts' }).waitFor();
      assert.deepEqual(await writeControls(p), [], 'hosts: no write controls');
      await openPage(p, 'Organisation', 'Organisation');
      assert.equal(await p.locator('[data-members="netops"]').innerText(), 'lena');
      assert.deepEqual(await writeControls(p), [], 'organisation: no write controls');
      await openPage(p, 'Grants', 'Grants and request limits');
      await p.getByRole('cell', { name: 'host web-9' }).waitFor();
      assert.deepEqual(await writeControls(p), [], 'grants: no write controls');
      await accessible(p, 'grants (auditor)');
    } finally {
      await aud.context.close();
    }
  },
);

async function userId(username: string): Promise<number> {
  return (await c!.api.db('users').where({ username }).first('id')).id as number;
}
