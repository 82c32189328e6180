// Accessibility tests of the portal (WCAG 2.1 AA): axe-core over every route of the route
// table in web/js/app.js, for an anonymous visitor, a new applicant and each demo role, plus
// an application's edit page, a review page (办理) and a confirmation dialog; visible focus
// on every element Tab reaches; form errors linked to their fields and announced; and
// keyboard-only walks (Tab, Enter, Space and typing, no clicks) of 登录 and 申请人注册 (an
// application and a review: keyboard.test.mjs).
// Run through tests/browser/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PASSWORD, idNumber, badIdNumber, phone,
  useBrowser, go, login, apiCall, demoAccounts, registerApplicant, filledApplication, axeRun, axeReport as report,
  tabTo, focusShown, portalRoutes, routesOf, routeHash,
} from './helpers.mjs';

const b = useBrowser();

// the route table of app.js (helpers.mjs), so that a new page is checked too
const ROUTES = portalRoutes();

let node;
let accounts;       // the demo accounts of this node, one per role
let applicationId;  // a submitted application of a new applicant, at the demo unit
let noticeId;       // a published notice, when the demo has one

before(async () => {
  assert.ok(ROUTES.length > 30, `the route table of app.js was read (${ROUTES.length} routes)`);
  node = (await (await fetch(BASE + '/api/v1/health')).json()).node;
  const all = demoAccounts().filter((a) => a.node === node);
  accounts = {};
  for (const a of all) if (!accounts[a.role]) accounts[a.role] = a;
  const notices = await (await fetch(BASE + '/api/v1/notices')).json().catch(() => ({}));
  const list = notices.items || notices.notices || [];
  if (list.length) noticeId = list[0].id;
});

after(() => console.log(`axe-core checked ${checked} pages and page states (${ROUTES.length} routes in app.js)`));

// ---------- helpers ----------

// axe-core on the page as it stands (helpers.mjs), counted.
async function axeViolations(page) {
  checked++;
  return axeRun(page);
}

let checked = 0; // pages and states axe-core has looked at

// Visits each hash in turn and collects every violation (so one run shows them all).
async function checkPages(page, who, hashes) {
  const failures = [];
  for (const hash of hashes) {
    await go(page, hash);
    const v = await axeViolations(page);
    if (v.length) failures.push(report(`${who} ${hash}`, v));
  }
  return failures;
}

const hashFor = (route) => routeHash(route, { application: applicationId, notice: noticeId });
const routesFor = (role) => routesOf(ROUTES, role);

// A new applicant with a draft application at the demo unit, every section filled (one a
// year: the same application is submitted later).
async function applicantWithDraft(page) {
  await registerApplicant(page, '阿依古丽');
  return filledApplication(page, accounts.unit_admin.credit_code);
}

// Tabs through the whole page once (until the focus comes back round) and lists every focused
// element without a visible focus indicator.
async function unfocusedOnTabWalk(page, max = 80) {
  const bad = [];
  await page.evaluate(() => {
    for (const e of document.querySelectorAll('[data-a11y-seen]')) e.removeAttribute('data-a11y-seen');
    if (document.activeElement) document.activeElement.blur();
    window.scrollTo(0, 0);
  });
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focusShown(page);
    if (f.what === 'body') continue;
    if (f.again) break; // round again
    if (!f.ok) bad.push(f.what);
  }
  return bad;
}

// ---------- axe-core over every page ----------

test('axe-core: every public page for an anonymous visitor has no WCAG 2.1 AA violation', async () => {
  const page = await b.open('#/');
  const hashes = routesFor(null).map(hashFor).concat(['#/no-such-page', '#/login?next=%2Fme']);
  const failures = await checkPages(page, 'anonymous', hashes);
  // the registration forms after their notes step
  for (const hash of ['#/register', '#/register/unit']) {
    await go(page, hash);
    await page.locator('.agree input[type="checkbox"]').check();
    await page.getByRole('button', { name: '下一步' }).click();
    await page.locator('form').first().waitFor();
    const v = await axeViolations(page);
    if (v.length) failures.push(report(`anonymous ${hash} (form)`, v));
  }
  // a form showing its field errors
  await go(page, '#/login');
  await page.locator('form button[type="submit"]').first().click();
  await page.locator('.field-error:not([hidden])').first().waitFor();
  const v = await axeViolations(page);
  if (v.length) failures.push(report('anonymous #/login (errors)', v));
  await page.context().close();
  assert.equal(failures.length, 0, '\n' + failures.join('\n'));
  b.assertNoPageErrors();
});

test('axe-core: every page of an applicant, an application being edited and a dialog', async () => {
  const page = await b.open('#/');
  const id = await applicantWithDraft(page);
  const failures = await checkPages(page, 'applicant (draft)', ['#/applications/edit?id=' + encodeURIComponent(id)]);
  const sub = await apiCall(page, 'POST', `/applications/${id}/submit`, {});
  assert.equal(sub.status, 200, JSON.stringify(sub.body));
  applicationId = id;
  failures.push(...await checkPages(page, 'applicant', routesFor('applicant').map(hashFor)));
  // the confirmation dialog of 收回
  await go(page, '#/applications/edit?id=' + encodeURIComponent(applicationId));
  await page.locator('[data-testid="facts"]').waitFor();
  await page.locator('.facts-actions').getByRole('button', { name: '收回' }).click();
  await page.locator('dialog[open]').waitFor();
  const v = await axeViolations(page);
  if (v.length) failures.push(report('applicant dialog 收回', v));
  await page.locator('dialog[open]').getByRole('button', { name: '取消' }).click();
  await page.context().close();
  assert.equal(failures.length, 0, '\n' + failures.join('\n'));
  b.assertNoPageErrors();
});

for (const role of ['unit_admin', 'dept_admin', 'committee_admin', 'node_admin', 'auditor']) {
  test(`axe-core: every page of the demo ${role}`, async (t) => {
    const a = accounts[role];
    if (!a) { t.skip(`no demo ${role} at this node`); return; }
    const page = await b.open('#/');
    await login(page, a.login, a.password);
    const failures = await checkPages(page, role, routesFor(role).map(hashFor));
    if (role === 'unit_admin') {
      // 办理: the confirmation dialog of 退回
      await go(page, '#/review/handle?id=' + encodeURIComponent(applicationId));
      const decisions = page.locator('[data-testid="decisions"]');
      await decisions.locator('[data-field="general"] textarea').fill('请补充继续教育证明。');
      await decisions.getByRole('button', { name: '退回' }).click();
      await page.locator('dialog[open]').waitFor();
      const v = await axeViolations(page);
      if (v.length) failures.push(report('unit_admin dialog 退回', v));
      await page.locator('dialog[open]').getByRole('button', { name: '取消' }).click();
    }
    await page.context().close();
    assert.equal(failures.length, 0, '\n' + failures.join('\n'));
    b.assertNoPageErrors();
  });
}

// ---------- focus and form errors ----------

test('visible focus: every element Tab reaches on the main public pages shows its focus', async () => {
  const page = await b.open('#/');
  const bad = [];
  for (const hash of ['#/', '#/login', '#/register', '#/register/unit', '#/catalog', '#/verify', '#/certificate', '#/notices', '#/recover']) {
    await go(page, hash);
    await page.waitForFunction(() => !document.querySelector('#main .loading') && document.querySelector('#main h1'));
    for (const w of await unfocusedOnTabWalk(page)) bad.push(`${hash}: ${w}`);
  }
  await page.context().close();
  assert.deepEqual(bad, [], 'elements without a visible focus indicator');
});

test('visible focus: an applicant\'s pages and an application being edited', async () => {
  const page = await b.open('#/');
  const id = await applicantWithDraft(page);
  const bad = [];
  for (const hash of ['#/me', '#/applications', '#/applications/new', '#/me/profile', '#/me/password', '#/applications/edit?id=' + encodeURIComponent(id)]) {
    await go(page, hash);
    await page.waitForFunction(() => !document.querySelector('#main .loading') && document.querySelector('#main h1'));
    for (const w of await unfocusedOnTabWalk(page, 300)) bad.push(`${hash}: ${w}`);
  }
  await page.context().close();
  assert.deepEqual(bad, [], 'elements without a visible focus indicator');
});

test('form errors: each field names its error (aria-describedby, aria-invalid) and a live region announces them', async () => {
  const page = await b.open('#/login');
  await page.locator('form button[type="submit"]').first().click();
  await page.locator('.field-error:not([hidden])').first().waitFor();
  await page.waitForFunction(() => document.querySelector('form .sr-errors')?.textContent);
  const info = await page.evaluate(() => [...document.querySelectorAll('form [data-field]')].map((row) => {
    const c = row.querySelector('input, select, textarea');
    const err = row.querySelector('.field-error');
    const ids = (c.getAttribute('aria-describedby') || '').split(/\s+/);
    const live = document.querySelector('form .sr-errors');
    return {
      field: row.dataset.field, linked: ids.includes(err.id), invalid: c.getAttribute('aria-invalid'),
      error: err.textContent, live: live && live.getAttribute('aria-live'), liveText: live && live.textContent,
    };
  }));
  for (const f of info) {
    assert.ok(f.linked, `${f.field}: aria-describedby names its error`);
    assert.equal(f.invalid, 'true', `${f.field}: aria-invalid`);
    assert.match(f.error, /请填写/);
    assert.equal(f.live, 'assertive', 'the form has an assertive live region for its errors');
    assert.ok(f.liveText.includes(f.error), `the live region says "${f.error}"`);
  }
  assert.equal(await page.evaluate(() => document.activeElement.closest('[data-field]')?.dataset.field), 'login', 'the focus goes to the first field in error');
  // a server error (a wrong password) is announced by the alert
  await page.locator('[data-field="login"] input').fill('nobody-' + Date.now());
  await page.locator('[data-field="password"] input').fill('Wrong-pass-123');
  await page.locator('form button[type="submit"]').first().click();
  const alert = page.locator('form .form-alert');
  await alert.waitFor({ state: 'visible' });
  assert.equal(await alert.getAttribute('role'), 'alert');
  await page.context().close();
});

// ---------- keyboard-only walks ----------

test('keyboard only: 登录 with Tab, typing and Enter', async () => {
  const a = accounts.unit_admin || Object.values(accounts)[0];
  const page = await b.open('#/');
  // to the navigation's 登录 link, then Enter
  await tabTo(page, '#nav-links a[href="#/login"]');
  assert.ok((await focusShown(page)).ok, 'the link shows its focus');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.location.hash === '#/login');
  await page.locator('form [data-field="login"] input').waitFor();
  // an empty submit by Enter: the error is announced and the focus stays on the field
  await tabTo(page, '[data-field="login"] input');
  await page.keyboard.press('Enter');
  await page.locator('[data-field="login"] .field-error:not([hidden])').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'login');
  await page.waitForFunction(() => /请填写/.test(document.querySelector('form .sr-errors')?.textContent || ''));
  await page.keyboard.type(a.login);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'password');
  await page.keyboard.type(a.password);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.location.hash === '#/me');
  await page.locator('#user-box .who-name').waitFor();
  // 退出登录 by keyboard too
  await tabTo(page, '#user-box button');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => window.location.hash.startsWith('#/login'));
  await page.locator('#nav-links a[href="#/register"]').waitFor();
  await page.context().close();
  b.assertNoPageErrors();
});

test('keyboard only: 申请人注册 from the home page to the assigned username', async () => {
  const page = await b.open('#/');
  await tabTo(page, '#nav-links a[href="#/register"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.location.hash === '#/register');
  // 注册须知: Space checks the consent box, Enter on 下一步
  await tabTo(page, '.agree input[type="checkbox"]');
  assert.ok((await focusShown(page)).ok, 'the checkbox shows its focus');
  await page.keyboard.press('Space');
  assert.ok(await page.locator('.agree input[type="checkbox"]').isChecked());
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), '下一步');
  await page.keyboard.press('Enter');
  // the form opens with the focus on 身份证号
  await page.waitForFunction(() => document.activeElement && document.activeElement.name === 'id_number');
  const typeField = async (name, text) => {
    assert.equal(await page.evaluate(() => document.activeElement.name), name, `the focus is on ${name}`);
    assert.ok((await focusShown(page)).ok, `${name} shows its focus`);
    await page.keyboard.type(text);
    await page.keyboard.press('Tab');
  };
  // Enter on the empty form: every field names its error, the focus stays on 身份证号
  await page.keyboard.press('Enter');
  await page.locator('[data-field="name"] .field-error:not([hidden])').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'id_number');
  await page.waitForFunction(() => /请填写/.test(document.querySelector('form .sr-errors')?.textContent || ''));
  // every field in Tab order (the ID number with a wrong check character first)
  const values = { id_number: badIdNumber(), name: '努尔江', phone: phone() };
  const fillAll = async () => {
    for (let i = 0; i < 8; i++) {
      const name = await page.evaluate(() => document.activeElement.name || '');
      if (!name) break;
      const value = values[name] ?? (/password|confirm/.test(name) ? PASSWORD : null);
      assert.ok(value !== null, `a value for the field ${name}`);
      await typeField(name, value);
    }
  };
  await fillAll();
  assert.equal(await page.evaluate(() => document.activeElement.textContent), '注册');
  await page.keyboard.press('Enter');
  // the server refuses the ID number: the error is next to it, linked, announced, focused
  await page.locator('[data-field="id_number"] .field-error:not([hidden])').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'id_number');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-invalid')), 'true');
  assert.ok(await page.evaluate(() => {
    const c = document.activeElement;
    const err = c.closest('[data-field]').querySelector('.field-error');
    return c.getAttribute('aria-describedby').split(/\s+/).includes(err.id);
  }), 'the ID number names its error');
  await page.waitForFunction(() => {
    const err = document.querySelector('[data-field="id_number"] .field-error').textContent;
    return err && (document.querySelector('form .sr-errors')?.textContent || '').includes(err);
  });
  // a valid number; the other fields keep what was typed, Tab on to 注册
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  values.id_number = idNumber();
  await typeField('id_number', values.id_number);
  for (let i = 0; i < 8 && (await page.evaluate(() => document.activeElement.tagName)) !== 'BUTTON'; i++) await page.keyboard.press('Tab');
  // the focus is now on 注册: Enter
  assert.equal(await page.evaluate(() => document.activeElement.textContent), '注册');
  await page.keyboard.press('Enter');
  const username = page.locator('[data-testid="username"]');
  await username.waitFor();
  assert.match(await username.textContent(), /\S/);
  await page.context().close();
  b.assertNoPageErrors();
});
