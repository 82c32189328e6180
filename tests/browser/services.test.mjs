// Browser tests of the services around the review: 通知公告 (written, published with an
// attachment and withdrawn by the node admin; read by an applicant on 我的主页 and by a
// visitor), 任职资格条件 on the application page and the warning of 提交, 进度提醒 on 我的主页,
// and account recovery: a code by phone, and an appeal the node admin approves (the
// owner sets a new password through the link) or rejects. Run through tests/browser/run.sh.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PASSWORD, digits, png, useBrowser, go, field, login, apiCall, demoAccounts, screenshot, waitForText,
  registerApplicant, confirmDialog,
} from './helpers.mjs';

const b = useBrowser();
const REGION_COMMITTEE = '650000-GC-G';
const NEW_PASSWORD = 'Xj-found2026';

let node;
let admin;       // this node's node admin
let unitCode;    // the demo unit's credit code
let applicant;   // registered in the first test, with an application to REGION_COMMITTEE
let appId;

before(async () => {
  node = (await (await fetch(BASE + '/api/v1/health')).json()).node;
  const accounts = demoAccounts();
  admin = accounts.find((a) => a.role === 'node_admin' && a.node === node);
  unitCode = accounts.find((a) => a.role === 'unit_admin' && a.node === node).credit_code;
});

async function adminPage(hash) {
  const page = await b.open('#/');
  await login(page, admin.login, admin.password);
  await go(page, hash);
  return page;
}

// ---------- 通知公告 ----------

test('通知公告: the node admin drafts a committee notice, attaches a file and publishes it; the applicant reads it on 我的主页; withdrawn everywhere', async () => {
  const title = `关于做好2026年度工程系列高级职称评审工作的通知${digits(4)}`;
  const page = await adminPage('#/notices/manage');
  await page.getByLabel('发布单位').selectOption(REGION_COMMITTEE);
  await page.getByLabel('通知标题').fill(title);
  await page.getByLabel('通知正文').fill('各有关单位：\n\n申报材料请于3月20日前报送。');
  await page.getByRole('button', { name: '保存草稿' }).click();
  await page.waitForFunction(() => window.location.hash.startsWith('#/notices/edit?id='));
  const id = new URLSearchParams(await page.evaluate(() => window.location.hash.split('?')[1])).get('id');

  // a draft is nobody else's business
  const anon = await (await fetch(`${BASE}/api/v1/notices/${id}`)).json();
  assert.equal(anon.error.code, 'not_found');

  await page.locator('[data-field="file"] input[type="file"]').setInputFiles({ name: '申报材料清单.png', mimeType: 'image/png', buffer: png() });
  await page.getByRole('button', { name: '上传附件' }).click();
  await waitForText(page, '[data-testid="notice-attachments"]', /申报材料清单\.png/);
  await page.locator('[data-testid="publish"]').click();
  await confirmDialog(page, '发布');
  await page.waitForFunction((i) => window.location.hash === '#/notice?id=' + i, id);
  const article = page.locator('[data-testid="notice"]');
  await article.waitFor();
  assert.equal(await article.locator('.notice-body p').count(), 2, 'a paragraph per blank line');
  assert.match(await article.textContent(), /申报材料请于3月20日前报送/);
  await screenshot(page, 'notice.png');

  // the applicant of that committee sees it on 我的主页 and downloads the attachment
  const mine = await b.open('#/');
  applicant = await registerApplicant(mine, '热依拉');
  const year = new Date(Date.now() + 8 * 3600e3).getUTCFullYear();
  const created = await apiCall(mine, 'POST', '/applications', { year, qualification: 'GC4', specialty: 'GC-JZ', unit: unitCode });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  appId = created.body.id;
  await go(mine, '#/me');
  const card = mine.locator('[data-testid="notices-card"]');
  await card.locator(`li[data-id="${id}"]`).waitFor();
  await card.getByRole('link', { name: title }).click();
  await mine.locator('[data-testid="notice"]').waitFor();
  const href = await mine.locator('[data-testid="notice-attachments"] a').getAttribute('href');
  const got = await mine.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, type: r.headers.get('Content-Type'), size: (await r.arrayBuffer()).byteLength }; }, href);
  assert.deepEqual(got, { status: 200, type: 'image/png', size: png().length });

  // a visitor: 首页 and the list
  const visitor = await b.open('#/');
  await visitor.locator(`[data-testid="notices-card"] li[data-id="${id}"]`).waitFor();
  await go(visitor, '#/notices');
  await visitor.locator(`[data-testid="notice-list"] tr[data-id="${id}"]`).waitFor();

  // 撤回: gone from the list everywhere
  await go(page, '#/notices/manage');
  const row = page.locator(`[data-testid="published"] li[data-id="${id}"]`);
  await row.getByRole('button', { name: '撤回' }).click();
  await confirmDialog(page, '撤回');
  await page.locator(`[data-testid="published"] li[data-id="${id}"]`).waitFor({ state: 'detached' });
  await go(visitor, '#/');
  await go(visitor, '#/notices');
  await visitor.locator('main h1').waitFor();
  assert.equal(await visitor.locator(`tr[data-id="${id}"]`).count(), 0, 'a withdrawn notice is not listed');
  for (const p of [page, mine, visitor]) await p.context().close();
  b.assertNoPageErrors();
});

// ---------- 任职资格条件 and 进度提醒 ----------

test('任职资格条件: the application page judges what is filled in, 提交 warns of what is unmet, a save updates it', async () => {
  assert.ok(appId, 'the first test made the application');
  const page = await b.open('#/');
  await login(page, applicant.username, applicant.password);
  const data = {
    basic: { current_title: '工程师', current_title_date: '2015-12-30' },
    education: { degree: '大学本科', graduated: '2009-06-30' },
    training: { hours: '96' },
    assessment: { year1: '优秀', year2: '合格', year3: '合格' },
    papers: { count: '1' },
  };
  for (const [name, d] of Object.entries(data)) {
    const r = await apiCall(page, 'PUT', `/applications/${appId}/sections/${name}`, { data: d });
    assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
  }
  await go(page, '#/applications/edit?id=' + appId);
  const card = page.locator('[data-testid="conditions"]');
  await card.locator('li[data-key="papers"]').waitFor();
  assert.equal(await card.locator('li[data-key="papers"]').getAttribute('data-status'), 'unmet');
  assert.match(await card.locator('li[data-key="papers"]').textContent(), /不符合[\s\S]*已填写1篇（部），需不少于2篇（部）/);
  assert.equal(await card.locator('li[data-key="years"]').getAttribute('data-status'), 'met');
  assert.equal(await card.locator('li[data-key="results"]').getAttribute('data-status'), 'review');

  await page.locator('.facts-actions').getByRole('button', { name: '提交' }).click();
  const text = await confirmDialog(page, '取消');
  assert.match(text, /以下 1 项任职资格条件尚不符合[\s\S]*论文著作/);

  const papers = page.locator('section[data-section="papers"]');
  await papers.locator('[data-field="count"] input').fill('3');
  await papers.getByRole('button', { name: '保存' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="conditions"] li[data-key="papers"]')?.dataset.status === 'met');
  await screenshot(page, 'conditions.png');
  await page.context().close();
  b.assertNoPageErrors();
});

test('进度提醒: the applicant switches notifications on at 我的主页, and it stays on', async () => {
  const page = await b.open('#/');
  await login(page, applicant.username, applicant.password);
  await go(page, '#/me');
  const box = page.getByLabel(/有评审结果或需要缴费时通知我/);
  assert.equal(await box.isChecked(), false, 'opt-in: off at first');
  await box.check();
  await waitForText(page, '[data-testid="notify"] .form-status', /已开启进度提醒/);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await page.locator('[data-testid="notify"]').waitFor();
  assert.equal(await page.getByLabel(/有评审结果或需要缴费时通知我/).isChecked(), true);
  await page.context().close();
  b.assertNoPageErrors();
});

// ---------- account recovery ----------

// The newest outbox message to `to`, read by the node admin.
async function lastMessageTo(page, to) {
  const res = await apiCall(page, 'GET', '/messages');
  assert.equal(res.status, 200);
  const m = res.body.items.find((x) => x.to === to);
  assert.ok(m, `a message to ${to}`);
  return m;
}

test('找回密码: a code sent to the phone sets a new password; the old one stops working', async () => {
  const who = await registerApplicant(await b.open('#/'), '阿布都');
  const page = await b.open('#/login');
  await page.getByRole('link', { name: '忘记用户名或密码？' }).click();
  await page.locator('[data-way="sms"]').click();
  await page.getByLabel('用户名/身份证号/手机号').fill(who.phone);
  await page.getByRole('button', { name: '获取验证码' }).click();
  await page.getByLabel('验证码').waitFor();

  const desk = await adminPage('#/messages');
  await waitForText(desk, '[data-testid="messages"]', who.phone);
  const code = /验证码：(\d{6})/.exec((await lastMessageTo(desk, who.phone)).body)[1];
  await desk.context().close();

  await page.getByLabel('验证码').fill(code === '000000' ? '111111' : '000000'); // a wrong one first
  await field(page, 'password').fill(NEW_PASSWORD);
  await field(page, 'confirm').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: '设置新密码' }).click();
  await page.locator('[data-testid="recover-step"] .form-alert:not([hidden]), [data-testid="recover-step"] .field-error:not([hidden])').first().waitFor();
  await page.getByLabel('验证码').fill(code);
  await page.getByRole('button', { name: '设置新密码' }).click();
  await waitForText(page, '[data-testid="recover-step"] .form-status', /新密码已设置/);
  const old = await page.evaluate(async ([l, p]) => (await fetch('/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: l, password: p }) })).status, [who.username, PASSWORD]);
  assert.equal(old, 401, 'the old password no longer works');
  await login(page, who.username, NEW_PASSWORD);
  await page.context().close();
  b.assertNoPageErrors();
});

async function fileAppeal(page, { name, idNumber, contact }) {
  await go(page, '#/recover');
  await page.locator('[data-way="person"]').click();
  await page.getByLabel('姓名').fill(name);
  await page.getByLabel('身份证号').fill(idNumber);
  await page.getByLabel('联系方式').fill(contact);
  await page.getByLabel('申诉理由').fill('手机号已停用，邮箱未填写');
  await page.locator('[data-field="scan"] input[type="file"]').setInputFiles({ name: '身份证.png', mimeType: 'image/png', buffer: png(200, 126) });
  await page.getByRole('button', { name: '提交申诉' }).click();
  await waitForText(page, '[data-testid="appeal-sent"]', /申诉已提交/);
  return /申诉编号：(\S+)/.exec(await page.locator('[data-testid="recover-step"]').textContent())[1];
}

test('账号申诉: the node admin approves an appeal with its scan, the owner sets a new password by the link; one naming nobody is rejected', async () => {
  const owner = await registerApplicant(await b.open('#/'), '古再丽');
  const contact = `owner${digits(6)}@example.com`;
  const page = await b.open('#/');
  const good = await fileAppeal(page, { name: owner.name, idNumber: owner.id_number, contact });
  const nobody = `nobody${digits(6)}@example.com`;
  const bad = await fileAppeal(page, { name: '不存在的人', idNumber: owner.id_number, contact: nobody });

  const desk = await adminPage('#/appeals');
  const card = desk.locator(`[data-testid="appeals"] [data-appeal="${good}"]`);
  await card.waitFor();
  assert.match(await card.textContent(), new RegExp(`相符账号${owner.name}（用户名 ${owner.username}）`));
  await card.locator('img.appeal-scan').waitFor();
  assert.ok(await card.locator('img.appeal-scan').evaluate((img) => img.complete && img.naturalWidth === 200), 'the scan is shown');
  await screenshot(desk, 'appeals.png');

  const none = desk.locator(`[data-testid="appeals"] [data-appeal="${bad}"]`);
  assert.match(await none.textContent(), /未找到与申诉信息相符的账号/);
  assert.equal(await none.getByRole('button', { name: '通过' }).isDisabled(), true);
  await none.getByRole('button', { name: '驳回' }).click();
  await none.locator('[data-field="reason"] .field-error').waitFor({ state: 'visible' }); // a reason is required
  await none.getByLabel('驳回理由').fill('姓名与身份证号不符');
  await none.getByRole('button', { name: '驳回' }).click();
  await desk.locator(`[data-appeal="${bad}"][data-state="rejected"]`).waitFor();

  await card.getByRole('button', { name: '通过' }).click();
  await desk.locator(`[data-appeal="${good}"][data-state="approved"]`).waitFor();
  await waitForText(desk, '.form-status', /设置新密码的链接已发送/);
  const body = (await lastMessageTo(desk, contact)).body;
  assert.match((await lastMessageTo(desk, nobody)).body, /未通过[\s\S]*姓名与身份证号不符/);
  await go(desk, '#/messages');
  await waitForText(desk, '[data-testid="messages"]', contact);
  await desk.context().close();

  const link = /(https?:\/\/\S+#\/recover\/appeal\?appeal=\S+&token=[0-9a-f]+)/.exec(body);
  assert.ok(link, body);
  const url = new URL(link[1]);
  const visitor = await b.open(url.hash);
  await field(visitor, 'password').fill(NEW_PASSWORD);
  await field(visitor, 'confirm').fill(NEW_PASSWORD);
  await visitor.getByRole('button', { name: '设置新密码' }).click();
  await waitForText(visitor, '.form-status', /新密码已设置/);

  // the link works once
  const again = await visitor.evaluate(async (q) => (await fetch('/api/v1/recovery/appeal-reset', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ appeal: q.appeal, token: q.token, password: 'Xj-again2026' }),
  })).status, Object.fromEntries(new URLSearchParams(url.hash.split('?')[1])));
  assert.equal(again, 400);
  await login(visitor, owner.username, NEW_PASSWORD);
  for (const p of [page, visitor]) await p.context().close();
  b.assertNoPageErrors();
});
