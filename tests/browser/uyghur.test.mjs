// Browser test of the portal in Uyghur (ug): every page a visitor and an applicant open,
// with <html lang="ug" dir="rtl">, shows no Chinese text of its own (what people typed,
// e.g. a name, aside), keeps numbers and codes left to right, gets the server's errors in
// Uyghur, and the 界面语言 switch is remembered by the browser and by the account. Run
// through tests/browser/run.sh.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, useBrowser, go, field, login, registerApplicant, demoAccounts, screenshot, waitForText } from './helpers.mjs';

const b = useBrowser();
const ARABIC = /[\u0600-\u06ff]/;
// Not yet here: #/directory (a committee's scope is text the page composes from series and
// level names) and an application's page (its conditions are sentences the node composes):
// both still show Chinese pieces until the node serves name_ug and composes in Uyghur.
const VISITOR_PAGES = ['#/', '#/login', '#/register', '#/register/unit', '#/catalog', '#/notices',
  '#/results', '#/verify', '#/certificate', '#/recover'];
const APPLICANT_PAGES = ['#/me', '#/applications', '#/applications/new', '#/me/profile', '#/me/password'];

let unitCode;
// Reference-data names (regions, recommending units, committees, the catalogue): the node
// serves them in Chinese until it serves their name_ug, so they count as data here.
let refNames = [];
before(async () => {
  const node = demoAccounts().find((a) => a.role === 'unit_admin');
  unitCode = node.credit_code;
  const json = async (p) => (await fetch(BASE + '/api/v1' + p)).json();
  const [fed, depts, cmtes, cat] = await Promise.all([json('/federation'), json('/depts'), json('/committees'), json('/catalog')]);
  const names = [...fed.nodes.map((n) => n.name), ...depts.items.map((d) => d.name), ...(cmtes.items || cmtes.committees || []).map((c) => c.name)];
  for (const sr of cat.series) names.push(sr.name, ...sr.specialties.map((x) => x.name), ...sr.qualifications.map((x) => x.name));
  refNames = [...new Set(names.filter(Boolean))].sort((a, b) => b.length - a.length); // the longest first
});

async function uyghurContext() {
  const ctx = await b.context();
  await ctx.addInitScript(() => window.localStorage.setItem('zc-lang', 'ug'));
  return ctx;
}

// The Chinese text the page still shows: text nodes and read attributes outside
// [translate="no"] and form values, minus the data strings given.
async function chineseLeft(page, data = []) {
  await page.waitForLoadState('networkidle');
  return page.evaluate((known) => {
    const cjk = /[\u3400-\u9fff]/;
    const left = new Set();
    const skip = (el) => el && el.closest('[translate="no"], script, style, textarea, noscript, [hidden]');
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE) {
        let v = n.nodeValue.trim();
        for (const k of known) v = v.split(k).join('');
        if (cjk.test(v) && !skip(n.parentElement)) left.add(n.nodeValue.trim());
      } else if (!skip(n)) {
        for (const a of ['placeholder', 'title', 'aria-label', 'alt']) {
          const v = n.getAttribute(a);
          if (v && cjk.test(v)) left.add(`[${a}] ${v}`);
        }
      }
    }
    if (cjk.test(document.title)) left.add(`<title> ${document.title}`);
    return [...left];
  }, data);
}

async function assertUyghurPage(page, hash, data) {
  await go(page, hash);
  await page.waitForSelector('body[data-ready="1"]');
  await page.locator('main h1').first().waitFor();
  assert.equal(await page.evaluate(() => `${document.documentElement.lang} ${document.documentElement.dir}`), 'ug rtl', hash);
  const left = await chineseLeft(page, data);
  assert.deepEqual(left, [], `${hash} still shows Chinese`);
  assert.match(await page.locator('main').textContent(), ARABIC, hash);
}

test('ئۇيغۇرچە: every visitor page is in Uyghur, right to left', async () => {
  const page = await b.open('#/', await uyghurContext());
  for (const hash of VISITOR_PAGES) await assertUyghurPage(page, hash, refNames);
  await go(page, '#/');
  await screenshot(page, 'ug-home.png');
  await page.context().close();
  b.assertNoPageErrors();
});

test('ئۇيغۇرچە: an applicant\'s pages, an application, and the server\'s errors', async () => {
  const page = await b.open('#/', await uyghurContext());
  const who = await registerApplicant(page, '阿依努尔');
  const data = [who.name, who.username, ...refNames];
  for (const hash of APPLICANT_PAGES) await assertUyghurPage(page, hash, data);
  // an application of its own, every section
  const created = await page.evaluate(async (unit) => {
    const csrf = (await (await fetch('/api/v1/me')).json()).csrf;
    const r = await fetch('/api/v1/applications', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ year: new Date().getFullYear(), qualification: 'GC4', specialty: 'GC-JZ', unit }) });
    return r.json();
  }, unitCode);
  await go(page, '#/applications/edit?id=' + encodeURIComponent(created.id));
  await page.locator('section[data-section="basic"]').waitFor();
  assert.match(await page.locator('main').textContent(), ARABIC);
  await screenshot(page, 'ug-application.png');
  // codes and numbers keep their direction
  const dir = await page.evaluate(() => {
    const el = document.querySelector('.mono, .code');
    return el ? getComputedStyle(el).direction : 'ltr';
  });
  assert.equal(dir, 'ltr');
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
