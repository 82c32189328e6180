// Browser tests of the portal on a phone (issue 10, "Phone-first"): a 375×740 touch screen
// held in one hand. The applicant's whole way through it, by taps and typing only: log in,
// 首页, 我的申请书, 新增申请书, every section of 编辑申请书, a file as a phone's camera gives it,
// 提交 and the status; on every page no sideways scrolling (wide tables scroll inside their
// own box) and every visible control, link and checkbox label at least 44×44 CSS px. The
// public pages a visitor opens on a phone are held to the same.
// Run through tests/browser/run.sh.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PASSWORD, idNumber, phone, png, useBrowser, go, demoAccounts, screenshot, waitForText, confirmDialog,
  SECTION_DATA, WITH_ATTACHMENTS, section, fillSection, saved,
} from './helpers.mjs';

const b = useBrowser();
const PHONE = { locale: 'zh-CN', viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const TARGET = 44; // CSS px, WCAG 2.5.5 and both platforms' guidelines

let unit; // the demo unit admin of this node: {credit_code}

before(async () => {
  const node = (await (await fetch(BASE + '/api/v1/health')).json()).node;
  unit = demoAccounts().find((a) => a.role === 'unit_admin' && a.node === node);
  assert.ok(unit, 'a demo unit admin of this node');
});

// What is wrong with the page on a phone: sideways scrolling, and each visible interactive
// element smaller than TARGET (a checkbox or radio by its label, which takes its taps).
async function phoneProblems(page) {
  return page.evaluate((min) => {
    const out = [];
    const se = document.scrollingElement;
    if (se.scrollWidth > window.innerWidth) out.push(`the page scrolls sideways: ${se.scrollWidth} px wide in ${window.innerWidth}`);
    const name = (el) => {
      let s = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + [...el.classList].map((c) => '.' + c).join('');
      if (el.type && el.tagName === 'INPUT') s += `[type=${el.type}]`;
      const text = (el.textContent || el.getAttribute('aria-label') || el.name || '').trim().replace(/\s+/g, ' ').slice(0, 20);
      const where = el.parentElement && el.parentElement.closest('[data-section], [data-testid], section, form, nav, header, footer, main');
      const at = where ? ` in ${where.tagName.toLowerCase()}${where.dataset.section ? `[data-section=${where.dataset.section}]` : ''}${where.dataset.testid ? `[data-testid=${where.dataset.testid}]` : ''}${where.className ? '.' + String(where.className).trim().split(/\s+/).join('.') : ''}` : '';
      return `${s}${text ? ` "${text}"` : ''}${at}`;
    };
    for (const el of document.querySelectorAll('a[href], button, input:not([type="hidden"]), select, textarea, summary')) {
      if (!el.checkVisibility({ visibilityProperty: true })) continue;
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1 || r.bottom + window.scrollY <= 0) continue; // .sr-only; the skip link until focused
      let target = el;
      if (el.type === 'checkbox' || el.type === 'radio') {
        target = el.closest('label') || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`));
        if (!target) { out.push(`${name(el)}: no label to tap`); continue; }
      }
      const t = target.getBoundingClientRect();
      if (t.width < min || t.height < min) out.push(`${name(target)}: ${Math.round(t.width)}×${Math.round(t.height)}`);
    }
    return [...new Set(out)];
  }, TARGET);
}

// Checks the page as it is now; the problems of a test's pages are gathered for one report.
let problems = [];
async function check(page, what) {
  await page.evaluate(() => document.fonts.ready);
  const found = await phoneProblems(page);
  if (found.length) problems.push(`${what} (${await page.evaluate(() => window.location.hash)}):\n    ${found.join('\n    ')}`);
}

function assertNoProblems() {
  const found = problems;
  problems = [];
  assert.equal(found.length, 0, `on a 375 px phone:\n  ${found.join('\n  ')}`);
}

test('applicant on a 375 px phone: log in, 首页, 新增申请书, every section, a photo, 提交, the status', async () => {
  const who = { id_number: idNumber(), name: '迪丽娜尔', phone: phone(), password: PASSWORD };
  const reg = await fetch(BASE + '/api/v1/accounts', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(who) });
  assert.equal(reg.status, 201);
  const username = (await reg.json()).account.username;

  const page = await b.open('#/', await b.browser.newContext(PHONE));
  await check(page, '首页, logged out');
  await page.locator('#nav-links a[href="#/login"]').tap();
  await page.locator('[data-field="login"] input').waitFor();
  await check(page, '登录');
  await page.locator('[data-field="login"] input').fill(username);
  await page.locator('[data-field="password"] input').fill(PASSWORD);
  await page.locator('form button[type="submit"]').tap();
  await page.waitForFunction(() => window.location.hash === '#/me');
  await page.locator('.menu-list a[href="#/applications"]').waitFor();
  await check(page, '我的主页');

  await go(page, '#/');
  await page.locator('.hero').waitFor();
  await check(page, '首页, logged in');

  await page.locator('#nav-links a[href="#/applications"]').tap();
  await page.locator('[data-testid="empty"]').waitFor();
  await check(page, '我的申请书, empty');
  await page.getByRole('link', { name: '新增申请书' }).first().tap();
  await page.locator('[data-field="year"] option').first().waitFor({ state: 'attached' });
  await page.locator('[data-field="series"] select').selectOption('GC');
  await page.locator('[data-field="specialty"] select').selectOption('GC-JZ');
  await page.locator('[data-field="qualification"] select').selectOption('GC4');
  await page.locator('#unit-q').fill(unit.credit_code);
  await page.getByRole('button', { name: '查询' }).tap();
  const radio = page.locator(`.unit-list input[value="${unit.credit_code}"]`);
  await radio.waitFor();
  await check(page, '新增申请书, the unit to pick');
  await page.locator(`.unit-list label[for="${await radio.getAttribute('id')}"]`).tap();
  assert.ok(await radio.isChecked(), 'a tap on the label picks the unit');
  await page.getByRole('button', { name: '下一步' }).tap();
  await page.locator('[data-testid="committee"]').waitFor();
  await check(page, '新增申请书, the committee');
  await page.getByRole('button', { name: '确认新增' }).tap();
  await page.waitForFunction(() => window.location.hash.startsWith('#/applications/edit?id='));
  await page.locator('[data-testid="facts"]').waitFor();
  await check(page, '编辑申请书, a new draft');

  for (const [name, data] of Object.entries(SECTION_DATA)) {
    await fillSection(page, name, data);
    await saved(page, name);
  }
  // what a phone's camera hands over: a JPEG-like photo, picked in the file chooser
  for (const name of WITH_ATTACHMENTS) {
    const input = section(page, name).locator('.upload-form input[type="file"]');
    assert.match(await input.getAttribute('accept'), /image\/\*/, 'the camera and the photo library are offered');
    assert.match(await input.getAttribute('accept'), /application\/pdf/);
    await input.setInputFiles({ name: `${name}-照片.png`, mimeType: 'image/png', buffer: png() });
    await section(page, name).locator('.upload-form button[type="submit"]').tap();
    await section(page, name).locator('.attachments li').first().waitFor();
  }
  for (const name of Object.keys(SECTION_DATA)) {
    await waitForText(page, `section[data-section="${name}"] [data-testid="section-state"]`, /已填写完整/);
  }
  await check(page, '编辑申请书, every section filled');
  await screenshot(page, 'phone-edit.png');

  await page.locator('.facts-actions').getByRole('button', { name: '提交' }).tap();
  await page.locator('dialog[open]').waitFor();
  await check(page, '提交, the confirmation');
  await confirmDialog(page, '确认提交');
  await waitForText(page, '[data-testid="facts"] [data-testid="status"]', /单位审核中/);
  await check(page, '编辑申请书, submitted');

  await go(page, '#/applications');
  await page.locator('.table').first().waitFor();
  assert.match(await page.locator('main').textContent(), /单位审核中/);
  await check(page, '我的申请书, the status');
  await screenshot(page, 'phone-applications.png');

  assertNoProblems();
  await page.context().close();
  b.assertNoPageErrors();
});

test('a visitor on a 375 px phone: every public page', async () => {
  const page = await b.open('#/', await b.browser.newContext(PHONE));
  for (const hash of ['#/notices', '#/catalog', '#/directory', '#/results', '#/verify', '#/certificate', '#/register', '#/register/unit', '#/recover']) {
    await go(page, hash);
    await page.locator('main h1').waitFor();
    await page.waitForFunction(() => !document.querySelector('main .loading'));
    await check(page, hash);
  }
  assertNoProblems();
  await page.context().close();
  b.assertNoPageErrors();
});
