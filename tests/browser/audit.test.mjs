// Browser test of 审计控制台 (web/js/pages/audit.js): the demo auditor reaches it from the
// menu, sees the replication status (every origin, every peer, refreshed), the log browser
// with verified entries, filters it, opens an entry's content, and pages. A visitor who is
// not signed in is sent to the login. Run through tests/browser/run.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, CHINESE, useBrowser, go, login, demoAuditor, screenshot } from './helpers.mjs';

const b = useBrowser();

test('auditor console: status per origin and peer, verified entries, filters, content, paging', async () => {
  const a = await demoAuditor();
  const page = await b.open('#/');
  await login(page, a.login, a.password);

  // reachable from the navigation and from 我的主页's menu
  await go(page, '#/me');
  await page.locator('.menu-list a[href="#/audit"]').waitFor();
  await page.locator('#nav-links a[href="#/audit"]').click();
  await page.waitForFunction(() => window.location.hash === '#/audit');
  assert.equal((await page.locator('h1').textContent()).trim(), '审计控制台');

  // the status: a live summary, a row per origin with this node's head, a column per peer
  const summary = page.locator('[data-testid="audit-summary"]');
  assert.equal(await summary.getAttribute('aria-live'), 'polite');
  await page.waitForFunction(() => /同步正常|需要关注/.test(document.querySelector('[data-testid="audit-summary"]').textContent));
  const fed = await page.evaluate(async () => (await fetch('/api/v1/federation')).json());
  const rows = page.locator('.audit-heads tbody tr');
  await page.waitForFunction((n) => document.querySelectorAll('.audit-heads tbody tr').length === n, fed.nodes.length);
  assert.equal(await page.locator('.audit-heads thead th').count(), 3 + fed.nodes.length - 1, 'a column per peer');
  for (const n of fed.nodes) assert.match(await rows.filter({ hasText: n.id }).textContent(), new RegExp(n.name));
  // it refreshes by itself
  const refreshed = await page.locator('[data-testid="audit-refreshed"]').textContent();
  await page.waitForFunction((t) => document.querySelector('[data-testid="audit-refreshed"]').textContent !== t, refreshed,
    { timeout: 15000 });
  assert.match(await page.locator('[data-testid="audit-alerts"]').textContent(), CHINESE);

  // the log browser: entries of every origin, verified
  const entries = page.locator('[data-testid="audit-entries"]');
  await entries.locator('tbody tr').first().waitFor();
  const verified = entries.locator('[data-testid="verified"]');
  assert.ok(await verified.count() > 0, 'at least one verified entry');
  assert.equal(await entries.locator('[data-testid="problem"]').count(), 0, 'nothing tampered here');
  assert.equal((await verified.first().textContent()).trim(), '✓ 已验证');
  assert.equal(await entries.locator('thead th[scope="col"]').count(), 7);

  // filters are labelled controls; an origin and a type narrow the list
  const self = (await page.evaluate(async () => (await fetch('/api/v1/health')).json())).node;
  const other = fed.nodes.find((n) => n.id !== self);
  await page.getByLabel('节点').selectOption(other.id);
  await page.waitForFunction((id) => {
    const r = [...document.querySelectorAll('[data-testid="audit-entries"] tbody tr')];
    return r.length > 0 && r.every((x) => x.dataset.origin === id);
  }, other.id);
  assert.match(await page.evaluate(() => window.location.hash), new RegExp(`origin=${other.id}`));
  await page.getByLabel('条目类型').selectOption('account.registered');
  await page.waitForFunction(() => {
    const r = [...document.querySelectorAll('[data-testid="audit-entries"] tbody tr')];
    return r.length > 0 && r.every((x) => x.textContent.includes('账号注册'));
  });
  // a received entry is verified too, and its content opens
  const first = entries.locator('tbody tr').first();
  assert.equal((await first.locator('[data-testid="verified"]').textContent()).trim(), '✓ 已验证');
  await first.locator('summary', { hasText: '查看内容' }).click();
  const body = first.locator('.audit-body');
  await body.waitFor();
  assert.match(await body.textContent(), /"account"/);
  assert.match(await first.locator('.audit-details').textContent(), new RegExp(`${other.id}#1`));

  // an account that does not exist: nothing, said in Chinese
  await page.getByLabel('账号').fill('a000000000000000000000000');
  await page.getByRole('button', { name: '查询' }).click();
  await entries.locator('.empty', { hasText: '没有符合条件的日志条目' }).waitFor();
  // a bad value: the server's Chinese message
  await page.getByLabel('账号').fill('含空格 的账号');
  await page.getByRole('button', { name: '查询' }).click();
  await entries.locator('[role="alert"]', { hasText: '账号应为账号编号或用户名' }).waitFor();

  // paging through everything: 下一页, then 上一页 back to the same first entry
  await page.getByRole('button', { name: '清除条件' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-entries"] tbody tr').length === 20);
  const top = await entries.locator('tbody tr').first().getAttribute('data-seq');
  await page.getByRole('button', { name: '下一页' }).click();
  await page.locator('.audit-pager', { hasText: '第 2 页' }).waitFor();
  await page.getByRole('button', { name: '上一页' }).click();
  await page.locator('.audit-pager', { hasText: '第 1 页' }).waitFor();
  assert.equal(await entries.locator('tbody tr').first().getAttribute('data-seq'), top);

  await screenshot(page, 'audit.png');
  await page.context().close();
  b.assertNoPageErrors();
});

test('auditor console: a visitor who is not signed in is sent to the login', async () => {
  const page = await b.open('#/');
  const res = await page.evaluate(async () => (await fetch('/api/v1/fed/entries')).status);
  assert.equal(res, 401);
  await page.evaluate(() => { window.location.hash = '#/audit'; });
  await page.waitForFunction(() => window.location.hash === '#/login?next=%2Faudit');
  await page.context().close();
});
