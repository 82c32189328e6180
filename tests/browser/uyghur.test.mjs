// Browser test of the portal in Uyghur (ug): every route of app.js's table that a visitor,
// an applicant and each demo reviewer, admin or auditor may open, with <html lang="ug" dir="rtl">, shows no Chinese text of
// its own (what people typed, e.g. a name, aside; reference names — regions, the
// catalogue, committees, recommending units — are Uyghur too, from the node's name_ug),
// has no axe-core (WCAG 2.1 AA) violation, keeps numbers and codes left to right, gets the
// server's errors in Uyghur, and the 界面语言 switch is remembered by the browser and by
// the account. Run through tests/browser/run.sh.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, useBrowser, go, field, login, registerApplicant, demoAccounts, screenshot, apiCall, filledApplication,
  ATTACHMENT_NAME, axeRun, axeReport, portalRoutes, routesOf, routeHash,
} from './helpers.mjs';

const b = useBrowser();
const ARABIC = /[\u0600-\u06ff]/;
// Every route of app.js's table, for each role that may open it (helpers.mjs).
const ROUTES = portalRoutes();
const ROLES = ['unit_admin', 'dept_admin', 'committee_admin', 'node_admin', 'auditor'];

let node;
let unitCode;
let submittedId; // the applicant's application, submitted: in the unit admin's queue
let noticeId;    // a published notice, when the demo has one
before(async () => {
  node = (await (await fetch(BASE + '/api/v1/health')).json()).node;
  unitCode = demoAccounts().find((a) => a.role === 'unit_admin' && a.node === node).credit_code;
  const notices = await (await fetch(BASE + '/api/v1/notices')).json().catch(() => ({}));
  noticeId = ((notices.items || [])[0] || {}).id;
});

const hashesOf = (role) => routesOf(ROUTES, role).map((r) => routeHash(r, { application: submittedId, notice: noticeId }));

// What people typed that a signed-in page may show: the account's and its unit's names and
// those of the applications it may read (applicants, units), the longest first.
async function typedNames(page) {
  const names = await page.evaluate(async () => {
    const json = async (p) => { const r = await fetch('/api/v1' + p); return r.ok ? r.json() : {}; };
    const me = (await json('/me')).account || {};
    const out = [me.name, me.username, me.unit && me.unit.name];
    if (me.role === 'unit_admin') {
      const u = (await json('/units/me')).unit || {};
      out.push(u.name, u.short_name);
    }
    if (me.role !== 'applicant') {
      for (const a of (await json('/applications?view=all')).items || []) out.push(a.applicant_name, a.unit_name);
    }
    return out;
  });
  return [...new Set(names.filter(Boolean))].sort((a, b) => b.length - a.length);
}

async function uyghurContext() {
  const ctx = await b.context();
  await ctx.addInitScript(() => window.localStorage.setItem('zc-lang', 'ug'));
  return ctx;
}

// The Chinese text the page still shows: text nodes and read attributes outside
// [translate="no"] (reference data, [data-ref], is checked too) and form values, minus the
// data strings given (in text and in attributes).
async function chineseLeft(page, data = []) {
  await page.waitForLoadState('networkidle');
  return page.evaluate((known) => {
    const cjk = /[\u3400-\u9fff]/;
    const left = new Set();
    const skip = (el) => el && el.closest('[translate="no"]:not([data-ref]), script, style, textarea, noscript, [hidden]');
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE) {
        let v = n.nodeValue.trim();
        for (const k of known) v = v.split(k).join('');
        if (cjk.test(v) && !skip(n.parentElement)) left.add(n.nodeValue.trim());
      } else if (!skip(n)) {
        for (const a of ['placeholder', 'title', 'aria-label', 'alt']) {
          const v = n.getAttribute(a);
          let rest = v || '';
          for (const k of known) rest = rest.split(k).join('');
          if (cjk.test(rest)) left.add(`[${a}] ${v}`);
        }
      }
    }
    if (cjk.test(document.title)) left.add(`<title> ${document.title}`);
    return [...left];
  }, data);
}

// What is wrong with the page at hash (opened unless open is false) in Uyghur: not right
// to left, Chinese left, no Uyghur at all, axe-core's violations; [] when nothing.
async function uyghurProblems(page, hash, data, open = true) {
  if (open) await go(page, hash);
  await page.waitForSelector('body[data-ready="1"]');
  await page.locator('main h1').first().waitFor();
  const out = [];
  const dir = await page.evaluate(() => `${document.documentElement.lang} ${document.documentElement.dir}`);
  if (dir !== 'ug rtl') out.push(`${hash}: <html> is ${dir}`);
  for (const t of await chineseLeft(page, data)) out.push(`${hash}: Chinese left: ${t}`);
  if (!ARABIC.test(await page.locator('main').textContent())) out.push(`${hash}: no Uyghur in <main>`);
  const v = await axeRun(page);
  if (v.length) out.push(axeReport(`ug ${hash}`, v));
  return out;
}

// Every hash in turn; fails once, with all that was found (so one run shows it all).
async function assertUyghurPages(page, hashes, data) {
  const out = [];
  for (const hash of hashes) out.push(...await uyghurProblems(page, hash, data));
  assert.deepEqual(out, [], '\n' + out.join('\n'));
}

test('ئۇيغۇرچە: every visitor page is in Uyghur, right to left', async () => {
  const page = await b.open('#/', await uyghurContext());
  await assertUyghurPages(page, hashesOf(null), []);
  await go(page, '#/');
  await screenshot(page, 'ug-home.png');
  await page.context().close();
  b.assertNoPageErrors();
});

test('ئۇيغۇرچە: an applicant\'s pages, an application, and the server\'s errors', async () => {
  const page = await b.open('#/', await uyghurContext());
  const who = await registerApplicant(page, '阿依努尔');
  const data = [...await typedNames(page), ATTACHMENT_NAME];
  await assertUyghurPages(page, hashesOf('applicant').filter((h) => !h.startsWith('#/applications/edit')), data);
  // an application of its own, every section filled
  const id = await filledApplication(page, unitCode);
  // its page, with the conditions it is checked against (任职资格条件自查)
  await go(page, '#/applications/edit?id=' + encodeURIComponent(id));
  await page.locator('section[data-section="basic"]').waitFor();
  await page.locator('[data-testid="conditions"] ul.conditions').waitFor();
  assert.deepEqual(await uyghurProblems(page, '#/applications/edit', data, false), []);
  await screenshot(page, 'ug-application.png');
  // codes and numbers keep their direction
  const dir = await page.evaluate(() => {
    const el = document.querySelector('.mono, .code');
    return el ? getComputedStyle(el).direction : 'ltr';
  });
  assert.equal(dir, 'ltr');
  const sub = await apiCall(page, 'POST', `/applications/${id}/submit`, {});
  assert.equal(sub.status, 200, JSON.stringify(sub.body));
  submittedId = id;
  await assertUyghurPages(page, ['#/applications', '#/applications/edit?id=' + encodeURIComponent(id)], data);
  // 扫码登录 on the phone: the page where it approves a desktop's login
  const desk = await b.open('#/login', await uyghurContext());
  await desk.locator('.qr-card button').click(); // 显示登录二维码
  const img = desk.locator('[data-testid="qr-login"] img.qr-image');
  await img.waitFor();
  const code = /qr-login\/([0-9a-f]{32})\/qr\.png/.exec(await img.getAttribute('src'))[1];
  await assertUyghurPages(page, ['#/qr?code=' + code], data);
  await desk.context().close();
  await page.context().close();

  // a wrong password: the node answers in Uyghur
  const anon = await b.open('#/login', await uyghurContext());
  await field(anon, 'login').fill(who.username);
  await field(anon, 'password').fill('Wrong-pass-2024');
  await anon.locator('form button[type="submit"]').click();
  const alert = anon.locator('.form-alert:not([hidden])');
  await alert.waitFor();
  assert.match(await alert.textContent(), ARABIC);
  await anon.context().close();
  b.assertNoPageErrors();
});

for (const role of ROLES) {
  test(`ئۇيغۇرچە: every page of the demo ${role}`, async () => {
    const a = demoAccounts().find((x) => x.role === role && x.node === node);
    assert.ok(a, `a demo ${role} at ${node}`);
    const page = await b.open('#/', await uyghurContext());
    await login(page, a.login, a.password);
    await assertUyghurPages(page, hashesOf(role), [...await typedNames(page), ATTACHMENT_NAME]);
    await page.context().close();
    b.assertNoPageErrors();
  });
}

test('界面语言: the switch is remembered by the browser, and by the account where it logs in', async () => {
  const page = await b.open('#/');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  const who = await registerApplicant(page, '帕提古丽');
  await Promise.all([page.waitForNavigation(), page.locator('#lang-select').selectOption('ug')]);
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'ug');
  const me = await page.evaluate(async () => (await (await fetch('/api/v1/me')).json()).account.lang);
  assert.equal(me, 'ug', 'kept with the account');
  await page.context().close();

  // another browser, in Chinese, turns Uyghur once this account logs in
  const other = await b.open('#/login');
  assert.equal(await other.evaluate(() => document.documentElement.lang), 'zh-CN');
  await field(other, 'login').fill(who.username);
  await field(other, 'password').fill(who.password);
  await other.locator('form button[type="submit"]').click();
  // the page reloads itself in the account's language (a navigation to #/me may come first)
  const deadline = Date.now() + 15000;
  let seen = '';
  while (Date.now() < deadline && seen !== 'ug 1') {
    seen = await other.evaluate(() => `${document.documentElement.lang} ${document.body.dataset.ready || ''}`).catch(() => '');
    if (seen !== 'ug 1') await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(seen, 'ug 1', 'the account\'s language');
  await other.context().close();
  b.assertNoPageErrors();
});
