// Browser tests of the portal on paper (issue 10, site.css's @media print): the lists people
// print (我的申请书, 申请书审核, 联系评审委员会目录, 通知公告, the auditor's log) without the navigation, the region and
// language switches, the footer, the skip link or any button; the list full width, black on
// white, a table as a table even on a narrow screen; and the page turns into a PDF. Every
// other page that lists things prints without the portal around it.
// Run through tests/browser/run.sh.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, useBrowser, go, login, apiCall, demoAccounts, submittedApplication } from './helpers.mjs';

const b = useBrowser();

let node; // this node's id
const demo = (role) => demoAccounts().find((a) => a.role === role && a.node === node);

before(async () => {
  node = (await (await fetch(BASE + '/api/v1/health')).json()).node;
  for (const role of ['unit_admin', 'node_admin', 'auditor']) assert.ok(demo(role), `a demo ${role} of this node`);
});

// What the page shows in print of the chrome, the buttons and the list matching selector.
async function printed(page, list) {
  await page.emulateMedia({ media: 'print' });
  const seen = await page.evaluate((sel) => {
    const shown = (el) => !!el && el.checkVisibility({ visibilityProperty: true }) && el.getBoundingClientRect().height > 0;
    const listEl = document.querySelector(sel);
    const main = document.getElementById('main').getBoundingClientRect();
    const cell = listEl && listEl.querySelector('td, dd, p');
    return {
      chrome: ['#skip-link', '.site-nav', '#region-select', '#lang-select', '.site-footer'].filter((s) => shown(document.querySelector(s))),
      buttons: [...document.querySelectorAll('button, .btn, select')].filter(shown).map((e) => e.textContent.trim() || e.tagName),
      list: shown(listEl),
      fullWidth: !!listEl && listEl.getBoundingClientRect().width >= main.width - 2,
      color: cell ? getComputedStyle(cell).color : '',
      rows: listEl ? [...new Set([...listEl.querySelectorAll('tr')].map((tr) => getComputedStyle(tr).display))] : [],
    };
  }, list);
  await page.emulateMedia({ media: 'screen' });
  return seen;
}

// Signed in as the demo role (a visitor when null), hash printed: its list (list) once
// rows of it show, as assertPrintable wants it.
async function assertListPrints(role, hash, list, rows, what) {
  const page = await b.open('#/');
  if (role) await login(page, demo(role).login, demo(role).password);
  await go(page, hash);
  await page.locator(rows).first().waitFor();
  assertPrintable(await printed(page, list), what);
  await page.context().close();
}

function assertPrintable(seen, what) {
  assert.deepEqual(seen.chrome, [], `${what}: no navigation, switches, footer or skip link on paper`);
  assert.deepEqual(seen.buttons, [], `${what}: no buttons on paper`);
  assert.ok(seen.list, `${what}: the list is printed`);
  assert.ok(seen.fullWidth, `${what}: the list takes the page's width`);
  assert.equal(seen.color, 'rgb(0, 0, 0)', `${what}: black text`);
}

test('我的申请书 and 申请书审核 print as tables, also from a narrow screen; the page becomes a PDF', async () => {
  const page = await b.open('#/');
  await submittedApplication(page, demo('unit_admin').credit_code, '热依拉');
  await go(page, '#/applications');
  await page.locator('table[data-testid="applications"] tbody tr').first().waitFor();
  assertPrintable(await printed(page, 'table[data-testid="applications"]'), '我的申请书');

  await page.setViewportSize({ width: 600, height: 800 }); // a screen where the rows stack
  const narrow = await printed(page, 'table[data-testid="applications"]');
  assertPrintable(narrow, '我的申请书 from a narrow screen');
  assert.deepEqual(narrow.rows, ['table-row'], 'rows as table rows on paper, not stacked');
  await page.setViewportSize({ width: 1280, height: 900 });

  const pdf = await page.pdf({ format: 'A4' });
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  await page.context().close();

  await assertListPrints('unit_admin', '#/review/queue', 'table[data-testid="applications"]',
    'table[data-testid="applications"] tbody tr', '申请书审核');
  b.assertNoPageErrors();
});

test('联系评审委员会目录 prints without its region filter', async () => {
  const page = await b.open('#/directory');
  await page.locator('[data-testid="directory"] .card').first().waitFor();
  assertPrintable(await printed(page, '[data-testid="directory"]'), '联系评审委员会目录');
  await page.context().close();
  b.assertNoPageErrors();
});

test('通知公告 and the auditor\'s log print as lists, without the filters and the pager', async () => {
  const page = await b.open('#/');
  await login(page, demo('node_admin').login, demo('node_admin').password);
  const n = await apiCall(page, 'POST', '/notices', { title: '关于报送纸质材料的通知', body: '请于截止日期前报送。' });
  assert.equal(n.status, 201, JSON.stringify(n.body));
  assert.equal((await apiCall(page, 'POST', `/notices/${n.body.notice.id}/publish`)).status, 200);
  await page.context().close();
  await assertListPrints(null, '#/notices', 'table[data-testid="notice-list"]', 'table[data-testid="notice-list"] tbody tr', '通知公告');
  await assertListPrints('auditor', '#/audit', '[data-testid="audit-entries"]',
    '[data-testid="audit-entries"] table tbody tr, [data-testid="audit-entries"] li', 'the auditor\'s log');
  b.assertNoPageErrors();
});

// Every other page that lists things (filled or still empty): on paper, no navigation,
// switches, footer, skip link, button or filter, and black text.
const LIST_PAGES = { null: ['#/catalog', '#/results', '#/publicity', '#/approval'], committee_admin: ['#/committees/payments', '#/review/all'],
  node_admin: ['#/review/all', '#/appeals', '#/messages'] };

test('every other list page prints without the portal around it', async () => {
  const bad = [];
  for (const [role, hashes] of Object.entries(LIST_PAGES)) {
    const page = await b.open('#/');
    if (role !== 'null') await login(page, demo(role).login, demo(role).password);
    for (const hash of hashes) {
      await go(page, hash);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      const seen = await printed(page, '#main');
      if (seen.chrome.length) bad.push(`${hash}: ${seen.chrome.join(', ')} on paper`);
      if (seen.buttons.length) bad.push(`${hash}: buttons on paper: ${seen.buttons.join(', ')}`);
      if (seen.color && seen.color !== 'rgb(0, 0, 0)') bad.push(`${hash}: text in ${seen.color}`);
    }
    await page.context().close();
  }
  assert.deepEqual(bad, []);
  b.assertNoPageErrors();
});

