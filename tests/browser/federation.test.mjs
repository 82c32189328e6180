// Browser tests of one platform across nodes (run.sh starts the region and Urumqi): an
// applicant registered at the region logs in at Urumqi's portal, directly and by picking
// Urumqi in the login page's 登录区域 drop-down, and moves the review region on 我的主页
// (修改评审区域), following the transfer until it is done; while the new home is down, the
// region's auditor console shows the transfer in flight, until it is done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, idNumber, phone, useBrowser, fill, submit, go, login, demoAuditor, zcFed } from './helpers.mjs';

const b = useBrowser();

async function register() {
  const body = { id_number: idNumber(), name: '买买提', phone: phone(), password: PASSWORD };
  const res = await fetch(BASE + '/api/v1/accounts', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(res.status, 201);
  const { account } = await res.json();
  return { ...body, username: account.username, id: account.id };
}

async function otherNode() {
  const fed = await (await fetch(BASE + '/api/v1/federation')).json();
  const other = fed.nodes.find((n) => n.id !== fed.node && n.url);
  assert.ok(other, 'run.sh starts two nodes');
  return { fed, other, url: other.url.replace(/\/+$/, '') };
}

// Log in through the login form of the portal at url.
async function formLogin(url, login) {
  const context = await b.context();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(url + '/#/login');
  await page.waitForSelector('body[data-ready="1"]');
  await fill(page, { login, password: PASSWORD });
  await submit(page);
  await page.waitForFunction(() => window.location.hash === '#/me');
  await page.locator('[data-testid="role"]').waitFor();
  return page;
}

// Waits until the account of username has replicated to the portal at url (a login works).
async function replicatedTo(url, username) {
  for (let i = 0; i < 50; i++) {
    const r = await fetch(url + '/api/v1/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login: username, password: PASSWORD }),
    });
    if (r.status === 200) return;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  assert.fail(`${username} never reached ${url}`);
}

test('an applicant of the region logs in at Urumqi\'s portal', async () => {
  const a = await register();
  const { url, other } = await otherNode();
  await replicatedTo(url, a.username);
  const page = await formLogin(url, a.id_number);
  assert.equal((await page.locator('#region-name').textContent()).trim(), other.name);
  const profile = await page.locator('.profile').textContent();
  assert.ok(profile.includes(a.username), profile);
  assert.ok(profile.includes('自治区'), `the home region is shown: ${profile}`);
  // 修改评审区域 is offered at the home's portal only
  assert.equal(await page.locator('[data-testid="region-panel"]').count(), 0);
  await page.context().close();
  b.assertNoPageErrors();
});

test('登录区域: on the region\'s login page the applicant picks Urumqi and logs in there', async () => {
  const a = await register();
  const { url, other } = await otherNode();
  await replicatedTo(url, a.username);
  const page = await b.open('#/login');
  const select = page.locator('#login-region');
  assert.equal(await select.inputValue(), (await otherNode()).fed.node, 'the region is chosen first');
  await Promise.all([page.waitForURL((u) => u.href.startsWith(url + '/')), select.selectOption(other.id)]);
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.evaluate(() => window.location.hash), '#/login', 'the same page, on Urumqi\'s portal');
  assert.equal(await page.locator('#login-region').inputValue(), other.id);
  await fill(page, { login: a.username, password: PASSWORD });
  await submit(page);
  await page.waitForFunction(() => window.location.hash === '#/me');
  assert.equal((await page.locator('#region-name').textContent()).trim(), other.name);
  assert.ok((await page.locator('.profile').textContent()).includes('自治区'), 'its home is the region');
  await page.context().close();
  b.assertNoPageErrors();
});

// On 我的主页 at the region, asks to move the review region of the logged-in page to other.
async function askForTransfer(page, other) {
  const panel = page.locator('[data-testid="region-panel"]');
  await panel.waitFor();
  assert.ok((await panel.textContent()).includes('当前评审区域：自治区'));
  await panel.locator('select').selectOption(other.id);
  await panel.getByRole('button', { name: '申请变更评审区域' }).click();
  const dlg = page.locator('dialog');
  await dlg.waitFor();
  assert.ok((await dlg.textContent()).includes(other.name));
  await dlg.getByRole('button', { name: '确认变更' }).click();
}

test('修改评审区域: from the region to Urumqi, followed until done', async () => {
  const a = await register();
  const { url, other } = await otherNode();
  const page = await formLogin(BASE, a.username);
  await askForTransfer(page, other);
  await page.locator('[data-testid="transfer"][data-status="done"]').waitFor({ timeout: 30000 });
  const done = await page.locator('[data-testid="transfer"]').textContent();
  assert.ok(done.includes(`评审区域已变更为${other.name}`), done);
  const link = page.getByRole('link', { name: `前往${other.name}网站` });
  assert.ok((await link.getAttribute('href')).startsWith(url));
  // at the new home: its portal offers the move again, from there
  const there = await formLogin(url, a.username);
  const p2 = there.locator('[data-testid="region-panel"]');
  await p2.waitFor();
  assert.ok((await p2.textContent()).includes(`当前评审区域：${other.name}`));
  await page.context().close();
  await there.context().close();
  b.assertNoPageErrors();
});

test('审计控制台: a transfer in flight while the new home is down, gone once it is done', async () => {
  const a = await register();
  const { other } = await otherNode();
  const au = await demoAuditor();
  const row = (page) => page.locator('[data-testid="audit-moving"] tbody tr').filter({ hasText: a.id });
  zcFed('stop', '--node', other.id);
  let console;
  try {
    const page = await formLogin(BASE, a.username);
    await askForTransfer(page, other);
    await page.locator('[data-testid="transfer"][data-status="offered"]').waitFor();
    console = await b.open('#/');
    await login(console, au.login, au.password);
    await go(console, '#/audit');
    await row(console).waitFor({ timeout: 15000 }); // the console refreshes by itself
    const text = await row(console).textContent();
    assert.ok(text.includes('评审区域变更') && text.includes(`自治区 → ${other.name}`) && text.includes('已提出'), text);
    await page.context().close();
  } finally {
    zcFed('up', '--node', other.id);
  }
  await row(console).waitFor({ state: 'detached', timeout: 30000 });
  await console.locator('[data-testid="audit-moving"]', { hasText: '没有进行中的转交或评审区域变更' }).waitFor();
  await console.context().close();
  b.assertNoPageErrors();
});
