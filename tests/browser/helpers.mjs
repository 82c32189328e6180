// Shared by the browser test files: the node under test (ZC_URL, ZC_DIR from run.sh),
// valid identifiers, a small PNG, the browser and its pages, form helpers, an application's
// sections, API calls made from inside a page (so that they use its session cookie), the
// keyboard, and axe-core's check.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const BASE = (process.env.ZC_URL || '').replace(/\/+$/, '');
export const DIR = process.env.ZC_DIR || '';
export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SHOTS = path.join(HERE, 'shots');
export const PASSWORD = 'Xj-title2024';
export const CHINESE = /[\u4e00-\u9fff]/;

// ---------- identifiers (shared/data/identifiers.md) ----------

export const rnd = (n) => Math.floor(Math.random() * n);
export const digits = (n) => Array.from({ length: n }, () => rnd(10)).join('');

function idCheck(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * w[i];
  return '10X98765432'[sum % 11];
}

// A valid resident ID number: Urumqi Tianshan district, a real birth date, random sequence.
export function idNumber() {
  const y = 1970 + rnd(30);
  const m = String(1 + rnd(12)).padStart(2, '0');
  const d = String(1 + rnd(28)).padStart(2, '0');
  const first17 = `650102${y}${m}${d}${digits(3)}`;
  return first17 + idCheck(first17);
}

// The same number with a wrong check character.
export function badIdNumber() {
  const good = idNumber();
  const wrong = '10X98765432'.split('').find((c) => c !== good[17]);
  return good.slice(0, 17) + wrong;
}

const CC = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

function ccCheck(body17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CC.indexOf(body17[i]) * CC_WEIGHTS[i];
  const c = 31 - (sum % 31);
  return CC[c === 31 ? 0 : c];
}

export function creditCode() {
  let body = '91650100';
  while (body.length < 17) body += CC[rnd(31)];
  return body + ccCheck(body);
}

// 18 characters of the code's alphabet with the right check character.
export function validCreditCode(code) {
  return typeof code === 'string' && code.length === 18 && [...code].every((c) => CC.includes(c))
    && ccCheck(code.slice(0, 17)) === code[17];
}

export const phone = () => '139' + digits(8);

// A small real PNG (64x40, a blue card with a lighter band), built without dependencies.
export function png(width = 64, height = 40) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = [0];
    for (let x = 0; x < width; x++) row.push(...(y > 12 && y < 20 ? [220, 232, 250] : [40, 90, 180]));
    rows.push(Buffer.from(row));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------- the browser ----------

// Launches chromium before the file's tests and closes it after; open(hash, ctx) gives a
// ready page (a new context unless ctx is given); errors collects uncaught page errors.
export function useBrowser() {
  const b = { browser: null, errors: [] };
  before(async () => {
    assert.ok(BASE, 'ZC_URL must name a running node (use tests/browser/run.sh)');
    fs.mkdirSync(SHOTS, { recursive: true });
    b.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    if (b.browser) await b.browser.close();
  });
  b.context = () => b.browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  b.open = async (hash = '#/', ctx) => {
    const context = ctx || (await b.context());
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('pageerror', (e) => b.errors.push(`${hash}: ${e.message}`));
    await page.goto(BASE + '/' + hash);
    await page.waitForSelector('body[data-ready="1"]');
    return page;
  };
  b.assertNoPageErrors = () => assert.deepEqual(b.errors, [], 'uncaught errors in the page');
  return b;
}

// Opens hash in the page; the page may send the browser on at once (a published notice's
// edit page to the notice), which counts as arrived too.
export async function go(page, hash) {
  const before = await page.evaluate(() => window.location.hash);
  await page.evaluate((h) => { window.location.hash = h; }, hash);
  await page.waitForFunction(([h, was]) => window.location.hash === h || window.location.hash !== was, [hash, before]);
}

// Waits until the element's text matches: the element may not exist yet (a page still
// rendering), which a bare querySelector(...).textContent in waitForFunction would throw on.
export async function waitForText(page, selector, pattern) {
  await page.locator(selector).filter({ hasText: pattern }).first().waitFor();
}

export const field = (page, name) => page.locator(`[data-field="${name}"]`).locator('input, select, textarea').first();
export const fieldError = (page, name) => page.locator(`[data-field="${name}"] .field-error`);

export async function fill(page, values) {
  for (const [name, value] of Object.entries(values)) await field(page, name).fill(value);
}

export async function submit(page) {
  await page.locator('form button[type="submit"]').first().click();
}

// A full-page screenshot from the top (a sticky bar is drawn where the view was).
export async function screenshot(page, name, opts = {}) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: true, ...opts });
}


// ---------- an application's sections (编辑申请书) ----------

// What every section gets (by field name); the select values are among the options.
export const SECTION_DATA = {
  basic: { gender: '女', birth_date: '1986-05-12', ethnicity: '维吾尔族', political: '群众', work_start: '2009-07-01', position: '项目技术负责人', current_title: '工程师', current_title_date: '2015-12-30' },
  education: { degree: '大学本科', school: '新疆大学', major: '土木工程', graduated: '2009-06-30' },
  work: { experience: '2009.07—2015.12 新疆某建设集团 技术员\n2016.01—至今 新疆某建设集团 项目技术负责人' },
  achievements: { summary: '主持完成多项住宅和公共建筑项目的技术管理工作。', projects: '乌鲁木齐市某安置房项目（技术负责人）' },
  papers: { papers: '《寒区混凝土冬季施工质量控制》，新疆建筑，2021，第一作者', count: '2' },
  awards: { awards: '2022年度自治区优质工程奖（参与）' },
  training: { hours: '96', description: '完成继续教育公需科目和专业科目学习' },
  assessment: { year1: '优秀', year2: '合格', year3: '合格' },
};
export const WITH_ATTACHMENTS = ['education', 'achievements'];

// The section of 编辑申请书 / 办理 named name.
export const section = (page, name) => page.locator(`section[data-section="${name}"]`);

export async function fillSection(page, name, data) {
  const sec = section(page, name);
  for (const [k, v] of Object.entries(data)) {
    const control = sec.locator(`form.section-form [data-field="${k}"]`).locator('input, select, textarea').first();
    if (await control.evaluate((e) => e.tagName === 'SELECT')) await control.selectOption(v);
    else await control.fill(v);
  }
  await sec.locator('form.section-form button[type="submit"]').click();
}

export async function saved(page, name) {
  const status = section(page, name).locator('form.section-form .form-status');
  await status.waitFor({ state: 'visible' });
  assert.match(await status.textContent(), /已保存/);
}

export async function uploadTo(page, name, fileName) {
  const sec = section(page, name);
  const before = await sec.locator('.attachments li').count();
  await sec.locator('.upload-form input[type="file"]').setInputFiles({ name: fileName, mimeType: 'image/png', buffer: png() });
  await sec.locator('.upload-form button[type="submit"]').click();
  await page.waitForFunction(([n, c]) => document.querySelectorAll(`section[data-section="${n}"] .attachments li`).length > c, [name, before]);
}

// ---------- the API from inside a page (its cookie; the CSRF token from GET /me) ----------

export async function apiCall(page, method, apiPath, body, raw) {
  return page.evaluate(async ([m, p, b, r]) => {
    const me = await fetch('/api/v1/me').then((x) => (x.ok ? x.json() : {}));
    const headers = { 'X-CSRF-Token': me.csrf || '' };
    let data;
    if (r) {
      headers['Content-Type'] = r.type;
      data = new Uint8Array(r.bytes);
    } else if (b !== undefined) {
      headers['Content-Type'] = 'application/json';
      data = JSON.stringify(b);
    }
    const res = await fetch('/api/v1' + p, { method: m, headers, body: data });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: json };
  }, [method, apiPath, body, raw ? { type: raw.type, bytes: [...raw.bytes] } : null]);
}

// Signs the page's context in (the cookie is kept by the context) and reloads the page.
export async function login(page, loginName, password) {
  const res = await page.evaluate(async ([l, p]) => (await fetch('/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: l, password: p }),
  })).status, [loginName, password]);
  assert.equal(res, 200, `login of ${loginName}`);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
}

// An applicant registered through the API inside page's context, then signed in there.
export async function registerApplicant(page, name) {
  const who = { id_number: idNumber(), name, phone: phone(), password: PASSWORD };
  const res = await page.evaluate(async (body) => {
    const r = await fetch('/api/v1/accounts', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  }, who);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  who.username = res.body.account.username;
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  return who;
}

export const ATTACHMENT_NAME = '证明.png';

// A draft application of the signed-in applicant at the unit with credit code unitCode
// (GC4, GC-JZ, this year in Beijing), every section filled, with the attachments asked for;
// its id.
export async function filledApplication(page, unitCode) {
  const year = new Date(Date.now() + 8 * 3600e3).getUTCFullYear();
  const res = await apiCall(page, 'POST', '/applications', { year, qualification: 'GC4', specialty: 'GC-JZ', unit: unitCode });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.id;
  for (const [name, data] of Object.entries(SECTION_DATA)) {
    assert.equal((await apiCall(page, 'PUT', `/applications/${id}/sections/${name}`, { data })).status, 200, name);
  }
  for (const name of WITH_ATTACHMENTS) {
    const r = await apiCall(page, 'POST', `/applications/${id}/attachments?section=${name}&name=${encodeURIComponent(ATTACHMENT_NAME)}`, undefined, { type: 'image/png', bytes: png() });
    assert.equal(r.status, 201);
  }
  return id;
}

// A new applicant, signed in in page's context, with filledApplication's application at
// the unit of creditCode submitted through the API; its id.
export async function submittedApplication(page, creditCode, applicant = '买买提') {
  await registerApplicant(page, applicant);
  const id = await filledApplication(page, creditCode);
  const sub = await apiCall(page, 'POST', `/applications/${id}/submit`, {});
  assert.equal(sub.status, 200, JSON.stringify(sub.body));
  return id;
}

// Answers the open <dialog> with the button named buttonText; returns the dialog's text.
export async function confirmDialog(page, buttonText) {
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor();
  const text = await dlg.textContent();
  await dlg.getByRole('button', { name: buttonText }).click();
  await dlg.waitFor({ state: 'detached' });
  return text;
}

export function demoAccounts() {
  const file = DIR && path.join(DIR, 'demo-accounts.json');
  assert.ok(file && fs.existsSync(file), 'run.sh starts the federation with --demo: demo-accounts.json must exist');
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// The demo auditor of the node under test (BASE).
export async function demoAuditor() {
  const node = (await (await fetch(BASE + '/api/v1/health')).json()).node;
  const a = demoAccounts().find((x) => x.role === 'auditor' && x.node === node);
  assert.ok(a, 'a demo auditor at this node');
  return a;
}

// tools/zc-fed on the federation under test (DIR), e.g. zcFed('stop', '--node', '650100').
export function zcFed(...args) {
  assert.ok(DIR, 'run.sh names the federation in ZC_DIR');
  execFileSync(path.join(HERE, '..', '..', 'tools', 'zc-fed'), [args[0], '--dir', DIR, ...args.slice(1)], { stdio: 'pipe' });
}

// ---------- the keyboard ----------

// Presses Tab (Shift+Tab with back) until the element matching selector has the focus;
// returns the number of presses.
export async function tabTo(page, selector, max = 60, { back = false } = {}) {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return i;
  }
  throw new Error(`${back ? 'Shift+Tab' : 'Tab'} never reached ${selector}`);
}

// Whether the focused element shows where the focus is: an outline of at least 2 px in a
// colour that is not transparent, or, for an invisible native control inside a styled box
// (the file picker), its box's outline.
export async function focusShown(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { ok: true, what: 'body' };
    const shows = (e) => {
      const s = getComputedStyle(e);
      return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
        && s.outlineColor !== 'transparent' && !/rgba\(.*, 0\)$/.test(s.outlineColor);
    };
    const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '')
      + ` "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 20)}"`;
    let ok = shows(el);
    if (!ok && el.parentElement && parseFloat(getComputedStyle(el).opacity) === 0) ok = shows(el.parentElement);
    const again = el.hasAttribute('data-a11y-seen');
    el.setAttribute('data-a11y-seen', '');
    return { ok, what, again };
  });
}

// ---------- axe-core (WCAG 2.1 AA) ----------

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// Waits until the route has drawn (no 加载中…), then runs axe-core on the document.
export async function axeRun(page) {
  await page.waitForFunction(() => !document.querySelector('#main .loading') && document.querySelector('#main h1'));
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForFunction(() => !document.querySelector('#main .loading'));
  // evaluated rather than added as a <script>: the portal's CSP (default-src 'self') refuses inline scripts
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  return page.evaluate(async (values) => {
    // colours mid-animation (a toast fading in) are not what anyone reads: finish them first
    for (const a of document.getAnimations()) if (a.effect && a.effect.getComputedTiming().endTime !== Infinity) a.finish();
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })) }));
  }, TAGS);
}

export function axeReport(where, violations) {
  return violations.map((v) => `${where}: ${v.id} (${v.impact}) ${v.help}\n`
    + v.nodes.map((n) => `    ${n.target}\n      ${(n.summary || '').replace(/\n/g, '\n      ')}`).join('\n')).join('\n');
}

// ---------- the portal's route table ----------

// The routes of web/js/app.js's table as {path, title, auth, roles} (roles: null for any).
export function portalRoutes() {
  const src = fs.readFileSync(path.join(HERE, '../../web/js/app.js'), 'utf8');
  const lists = {};
  for (const m of src.matchAll(/^const (\w+) = \[([^\]]*)\];/gm)) {
    lists[m[1]] = m[2].split(',').map((s) => s.trim()).flatMap((s) => (s.startsWith('...') ? lists[s.slice(3)] : [s.replace(/'/g, '')])).filter(Boolean);
  }
  const routes = [];
  for (const m of src.matchAll(/^\s*'(\/[^']*)': \{ title: '([^']*)', load: pages\.\w+, page: '\w+'(, auth: true)?(?:, roles: (\w+|\[[^\]]*\]))? \},$/gm)) {
    let roles = null;
    if (m[4]) roles = m[4].startsWith('[') ? m[4].slice(1, -1).split(',').map((s) => s.trim().replace(/'/g, '')) : lists[m[4]];
    routes.push({ path: m[1], title: m[2], auth: !!m[3], roles });
  }
  return routes;
}

// The routes a role may open (a visitor's when role is null).
export const routesOf = (routes, role) => routes.filter((r) => (role ? !r.roles || r.roles.includes(role) : !r.auth));

// The hash to open for a route: with the id of ids.application or ids.notice where the page
// shows one of them.
export function routeHash(route, ids) {
  const id = { '/applications/edit': ids.application, '/review/handle': ids.application,
    '/notice': ids.notice, '/notices/edit': ids.notice }[route.path];
  return '#' + route.path + (id ? '?id=' + encodeURIComponent(id) : '');
}

