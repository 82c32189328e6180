// Browser tests of the portal (web/) against a running node: ZC_URL is its base URL,
// ZC_DIR the zc-fed directory (for demo-accounts.json). Run through tests/browser/run.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BASE, DIR, SHOTS, PASSWORD, CHINESE, digits, idNumber, badIdNumber, creditCode, phone, png,
  useBrowser, go, field, fieldError, fill, submit,
} from './helpers.mjs';

const b = useBrowser();
const open = (hash, ctx) => b.open(hash, ctx);
const assertNoPageErrors = () => b.assertNoPageErrors();

async function passNotes(page) {
  const next = page.getByRole('button', { name: '下一步' });
  assert.equal(await next.isDisabled(), true, '下一步 is disabled until the notes are agreed to');
  await page.getByLabel('我已阅读并同意').check();
  assert.equal(await next.isEnabled(), true);
  await next.click();
}

async function expectRole(page, roleName) {
  await page.waitForFunction(() => window.location.hash === '#/me');
  const role = page.locator('[data-testid="role"]');
  await role.waitFor();
  assert.equal((await role.textContent()).trim(), roleName);
}

// Shared between the tests, which run in order.
const applicant = { id_number: idNumber(), name: '阿依古丽', phone: phone(), username: '' };

// ---------- tests ----------

test('home page: platform name, current region and the region drop-down', async () => {
  const page = await open('#/');
  const health = await page.evaluate(async () => (await fetch('/api/v1/health')).json());
  const fed = await page.evaluate(async () => (await fetch('/api/v1/federation')).json());

  assert.match(await page.locator('.brand-title').textContent(), /新疆维吾尔自治区职称申报评审系统/);
  assert.equal((await page.locator('#region-name').textContent()).trim(), health.name);

  const options = await page.locator('#region-select option').allTextContents();
  assert.equal(options.length, fed.nodes.length);
  assert.equal(options[0], '自治区', '自治区 comes first');
  assert.equal(await page.locator('#region-select').inputValue(), health.node);
  assert.ok(await page.locator('select#region-select').evaluate((s) => !!s.labels.length), 'the drop-down is labelled');

  await page.screenshot({ path: path.join(SHOTS, 'home.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, 'home-mobile.png'), fullPage: true });
  await page.context().close();
  assertNoPageErrors();
});

test('catalog page lists the series with their qualifications', async () => {
  const page = await open('#/catalog');
  await page.locator('.series').first().waitFor();
  const titles = await page.locator('.series h2').allTextContents();
  assert.ok(titles.some((t) => t.includes('系列')), titles.join());
  assert.ok(await page.locator('.series .level').count() > 0);
  await page.context().close();
});

test('applicant registration: notes, field error on a bad ID number, username, ID-card upload', async () => {
  const page = await open('#/register');
  assert.match(await page.locator('.notes').textContent(), /一个身份证号/);
  await passNotes(page);

  // the password rule is shown under the password field
  assert.match(await page.locator('[data-field="password"] .hint').textContent(),
    /密码至少8位，且须包含大写字母、小写字母、数字、特殊符号中的至少三类/);
  // the fields are labelled
  assert.equal(await page.getByLabel('身份证号').count(), 1);

  // a bad ID number: the server's message appears next to the ID field
  await fill(page, { id_number: badIdNumber(), name: applicant.name, phone: applicant.phone, password: PASSWORD, confirm: PASSWORD });
  await submit(page);
  const idErr = fieldError(page, 'id_number');
  await idErr.waitFor({ state: 'visible' });
  assert.match(await idErr.textContent(), CHINESE);
  assert.equal(await field(page, 'id_number').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('.form-alert[role="alert"]:visible').count(), 0, 'no top-of-form error for a field error');

  // mismatched confirmation is caught before the server
  await fill(page, { id_number: applicant.id_number, confirm: PASSWORD + 'x' });
  await submit(page);
  await fieldError(page, 'confirm').waitFor({ state: 'visible' });
  assert.equal(await idErr.isVisible(), false, 'old errors are cleared on a new submit');

  await fill(page, { confirm: PASSWORD });
  await submit(page);
  const username = page.locator('[data-testid="username"]');
  await username.waitFor();
  applicant.username = (await username.textContent()).trim();
  assert.match(applicant.username, /^\d+$/, 'the username is numeric');
  assert.match(await page.locator('.username-box').textContent(), /记下/);

  // ID-card: a file over 2 MiB is refused in the browser, next to its input
  const back = page.locator('[data-side="back"]');
  await back.locator('input[type="file"]').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(2 * 1024 * 1024 + 1, 1) });
  await back.locator('button[type="submit"]').click();
  await back.locator('.field-error').waitFor({ state: 'visible' });
  assert.match(await back.locator('.field-error').textContent(), /2 MiB/);

  // a file that only claims to be a PNG: the server sniffs it and refuses it (415)
  await back.locator('input[type="file"]').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('just some text, not an image') });
  await back.locator('button[type="submit"]').click();
  await page.waitForFunction(() => !document.querySelector('[data-side="back"] form').classList.contains('busy')
    && !/2 MiB，不能/.test(document.querySelector('[data-side="back"] .field-error').textContent));
  await back.locator('.field-error').waitFor({ state: 'visible' });
  assert.match(await back.locator('.field-error').textContent(), CHINESE);
  assert.equal((await back.locator('.badge').textContent()).trim(), '未上传');

  // a small PNG for both sides
  for (const side of ['front', 'back']) {
    const box = page.locator(`[data-side="${side}"]`);
    await box.locator('input[type="file"]').setInputFiles({ name: `${side}.png`, mimeType: 'image/png', buffer: png() });
    await box.locator('button[type="submit"]').click();
    await box.locator('.form-status').waitFor({ state: 'visible' });
    assert.match(await box.locator('.form-status').textContent(), /上传成功/);
    assert.equal((await box.locator('.badge').textContent()).trim(), '已上传');
    await box.locator('.idcard-preview img').waitFor();
  }

  await page.getByRole('button', { name: '进入我的主页' }).click();
  await expectRole(page, '申请人');
  await page.context().close();
  assertNoPageErrors();
});

test('registering the same ID number again names the ID field', async () => {
  const page = await open('#/register');
  await passNotes(page);
  await fill(page, { id_number: applicant.id_number, name: '重复注册', phone: phone(), password: PASSWORD, confirm: PASSWORD });
  await submit(page);
  await fieldError(page, 'id_number').waitFor({ state: 'visible' });
  assert.match(await fieldError(page, 'id_number').textContent(), CHINESE);
  await page.context().close();
});

test('a failed login shows the Chinese error on the form, with the button disabled in flight', async () => {
  const page = await open('#/login');
  // hold the request a moment so that the in-flight state can be seen
  await page.route('**/api/v1/session', async (route) => {
    await new Promise((r) => setTimeout(r, 400));
    await route.continue();
  });
  await fill(page, { login: applicant.username, password: 'Wrong-pass-123' });
  const button = page.locator('form button[type="submit"]');
  await button.click();
  assert.equal(await button.isDisabled(), true, 'the submit button is disabled while the request is in flight');
  const alert = page.locator('form .form-alert[role="alert"]'); // the login form's, not 扫码登录's
  await alert.waitFor({ state: 'visible' });
  assert.match(await alert.textContent(), CHINESE);
  assert.equal(await button.isEnabled(), true);
  assert.equal(await page.evaluate(() => window.location.hash), '#/login');
  await page.context().close();
});

test('login with the username; 我的主页 shows the role, masked ID and ID-card scans', async () => {
  const page = await open('#/login');
  await fill(page, { login: applicant.username, password: PASSWORD });
  await submit(page);
  await expectRole(page, '申请人');
  const profile = await page.locator('.profile').textContent();
  assert.ok(profile.includes(applicant.username));
  assert.match(profile, /\*{4,}/, 'the ID number is masked');
  assert.ok(!profile.includes(applicant.id_number), 'the full ID number is never shown');
  await page.locator('[data-side="front"] .idcard-preview img').waitFor();
  await page.locator('[data-side="back"] .idcard-preview img').waitFor();
  assert.equal(await page.getByText('退出登录').count() > 0, true);
  await page.screenshot({ path: path.join(SHOTS, 'me-applicant.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, 'me-applicant-mobile.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  // the session survives a reload (GET /me restores it and the CSRF token)
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await expectRole(page, '申请人');

  // edit the profile: a state change that needs the CSRF token
  await go(page, '#/me/profile');
  await fill(page, { email: 'ayguli@example.cn' });
  await submit(page);
  await page.locator('.form-status').waitFor({ state: 'visible' });

  await page.locator('#user-box').getByRole('button', { name: '退出登录' }).click();
  await page.waitForFunction(() => window.location.hash.startsWith('#/login'));
  await page.locator('#nav-links').getByText('登录').waitFor();
  await page.context().close();
  assertNoPageErrors();
});

test('修改密码 ends other sessions and the new password works', async () => {
  const first = await open('#/login');
  await fill(first, { login: applicant.phone, password: PASSWORD });
  await submit(first);
  await expectRole(first, '申请人');

  const page = await open('#/login');
  await fill(page, { login: applicant.id_number, password: PASSWORD });
  await submit(page);
  await expectRole(page, '申请人');
  await go(page, '#/me/password');
  const newPassword = PASSWORD + '#2';
  await fill(page, { old: 'Not-the-password1', new: newPassword, confirm: newPassword });
  await submit(page);
  const wrongOld = page.locator('form .field-error:visible, form .form-alert:visible');
  await wrongOld.first().waitFor();
  assert.match(await wrongOld.first().textContent(), CHINESE);

  await fill(page, { old: PASSWORD, new: newPassword, confirm: newPassword });
  await submit(page);
  await page.locator('.form-status').waitFor({ state: 'visible' });
  assert.match(await page.locator('.form-status').textContent(), /其他设备/);
  applicant.password = newPassword;

  // the first browser's session is gone
  const me = await first.evaluate(async () => (await fetch('/api/v1/me')).status);
  assert.equal(me, 401);
  await first.context().close();
  await page.context().close();

  const again = await open('#/login');
  await fill(again, { login: applicant.username, password: newPassword });
  await submit(again);
  await expectRole(again, '申请人');
  await again.context().close();
  assertNoPageErrors();
});

test('unit registration, 完善单位信息 until 完整, and choosing a recommending unit', async () => {
  const unit = { credit_code: creditCode(), name: `乌鲁木齐测试科技有限公司${digits(6)}`, short_name: `测试科技${digits(6)}`, contact: '王建新', phone: phone() };
  const page = await open('#/register/unit');
  assert.match(await page.locator('.notes').textContent(), /统一社会信用代码/);
  await passNotes(page);

  // a bad credit code is named next to its field
  await fill(page, { ...unit, credit_code: unit.credit_code.slice(0, 17) + (unit.credit_code[17] === '0' ? '1' : '0'), password: PASSWORD, confirm: PASSWORD });
  await submit(page);
  await fieldError(page, 'credit_code').waitFor({ state: 'visible' });
  assert.match(await fieldError(page, 'credit_code').textContent(), CHINESE);

  await fill(page, { credit_code: unit.credit_code });
  await submit(page);
  const username = page.locator('[data-testid="username"]');
  await username.waitFor();
  assert.match((await username.textContent()).trim(), /^\d+$/);
  assert.match(await page.locator('main').textContent(), /本账号为单位管理员账号，不能申报职称/);

  await page.getByRole('button', { name: '完善单位信息' }).click();
  const badge = page.locator('[data-testid="unit-complete"]');
  await badge.waitFor();
  assert.equal((await badge.textContent()).trim(), '不完整');
  assert.match(await page.locator('[data-testid="unit-missing"]').textContent(), /单位地址/);

  await fill(page, { address: '乌鲁木齐市天山区人民路1号', legal_person: '李明', contact: '王建新', phone: '0991-1234567', industry: '信息传输、软件和信息技术服务业', email: 'hr@example.cn', postcode: '830000' });
  await submit(page);
  await page.locator('.form-status').waitFor({ state: 'visible' });
  assert.equal((await badge.textContent()).trim(), '完整');

  // recommending unit: region first, then a dept of that region
  await go(page, '#/unit/recommenders');
  const region = page.locator('#rec-region');
  await region.waitFor();
  assert.equal((await region.locator('option').first().textContent()).trim(), '自治区');
  await region.selectOption({ index: 0 });
  const dept = page.locator('#rec-dept');
  await page.waitForFunction(() => document.querySelectorAll('#rec-dept option[value]:not([value=""])').length > 0);
  const deptValue = await dept.locator('option:not([value=""])').first().getAttribute('value');
  const deptName = (await dept.locator('option:not([value=""])').first().textContent()).trim();
  await dept.selectOption(deptValue);
  await page.getByRole('button', { name: '添加', exact: true }).click();
  await page.getByRole('button', { name: '保存推荐单位' }).click();
  await page.locator('.form-status').waitFor({ state: 'visible' });
  assert.match(await page.locator('[data-testid="recommenders"]').textContent(), new RegExp(deptName));

  // 变更单位名称: the old name goes into the history
  await go(page, '#/unit/rename');
  const newShort = `新简称${digits(6)}`;
  await field(page, 'short_name').waitFor();
  await fill(page, { short_name: newShort });
  await submit(page);
  await page.locator('.form-status').waitFor({ state: 'visible' });
  const history = await page.locator('main table').textContent();
  assert.ok(history.includes(unit.short_name), 'the old short name is in the history');
  assert.ok((await page.locator('main .kv').first().textContent()).includes(newShort));

  // it was saved: a fresh 我的主页 shows it, the role and that the account cannot apply
  await go(page, '#/me');
  await expectRole(page, '基层单位管理员');
  const main = await page.locator('main').textContent();
  assert.match(main, /本账号为单位管理员账号，不能申报职称/);
  assert.ok(main.includes(deptName), 'the recommending unit shows on 我的主页');
  assert.match(main, /完整/);
  await page.screenshot({ path: path.join(SHOTS, 'me-unit.png'), fullPage: true });

  // a second unit with the same full name is refused next to the name field
  await page.locator('#user-box').getByRole('button', { name: '退出登录' }).click();
  await page.waitForFunction(() => window.location.hash.startsWith('#/login'));
  await go(page, '#/register/unit');
  await passNotes(page);
  await fill(page, { credit_code: creditCode(), name: unit.name, short_name: `另一简称${digits(6)}`, contact: '张三', phone: phone(), password: PASSWORD, confirm: PASSWORD });
  await submit(page);
  await fieldError(page, 'name').waitFor({ state: 'visible' });
  assert.match(await fieldError(page, 'name').textContent(), CHINESE);
  await page.context().close();
  assertNoPageErrors();
});

test('demo accounts of every role log in and see their role', async () => {
  const file = DIR && path.join(DIR, 'demo-accounts.json');
  assert.ok(file && fs.existsSync(file), 'run.sh starts the federation with --demo: demo-accounts.json must exist');
  const accounts = JSON.parse(fs.readFileSync(file, 'utf8'));
  const health = await (await fetch(BASE + '/api/v1/health')).json();
  const names = { applicant: '申请人', unit_admin: '基层单位管理员', dept_admin: '推荐单位管理员', committee_admin: '评审委员会管理员', node_admin: '节点管理员', auditor: '审计员' };
  let tried = 0;
  for (const [role, roleName] of Object.entries(names)) {
    const acct = accounts.find((a) => a.role === role && a.node === health.node);
    if (!acct) continue;
    tried++;
    const page = await open('#/login');
    await fill(page, { login: acct.login, password: acct.password });
    await submit(page);
    await expectRole(page, roleName);
    const main = await page.locator('main').textContent();
    if (role === 'unit_admin') {
      assert.match(main, /本账号为单位管理员账号，不能申报职称/);
      assert.ok(await page.locator('.menu-list a[href="#/unit/info"]').count() === 1);
    } else {
      assert.equal(await page.locator('.menu-list a[href^="#/unit/"]').count(), 0, `no unit menu for ${role}`);
    }
    await page.context().close();
  }
  assert.ok(tried >= 3, `demo accounts found for node ${health.node}: ${tried}`);
  assertNoPageErrors();
});

test('the region drop-down opens the same page on the chosen node', async () => {
  const fed = await (await fetch(BASE + '/api/v1/federation')).json();
  const other = fed.nodes.find((n) => n.id !== fed.node && n.url);
  assert.ok(other, 'run.sh starts two nodes: the drop-down must offer the other one');
  const page = await open('#/catalog');
  await page.locator('#region-select').selectOption(other.id);
  await page.waitForURL((u) => u.href.startsWith(other.url.replace(/\/+$/, '')) && u.hash === '#/catalog');
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal((await page.locator('#region-name').textContent()).trim(), other.name);
  assert.equal(await page.locator('#region-select').inputValue(), other.id);
  await page.context().close();
  assertNoPageErrors();
});

// Last, as it spends failed logins from this address (the node allows 20 per 15 minutes).
test('too many failed logins: the message says when to retry', async () => {
  const page = await open('#/login');
  const login = 'nobody' + digits(8);
  for (let i = 0; i < 5; i++) {
    const status = await page.evaluate(async (l) => (await fetch('/api/v1/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: l, password: 'Wrong-pass-1' }),
    })).status, login);
    if (status === 429) break;
    assert.equal(status, 401);
  }
  await fill(page, { login, password: 'Wrong-pass-1' });
  await submit(page);
  const alert = page.locator('form .form-alert[role="alert"]');
  await alert.waitFor({ state: 'visible' });
  const text = await alert.textContent();
  assert.match(text, CHINESE);
  assert.match(text, /\d{2}:\d{2}:\d{2} 之后重试/, text);
  await page.context().close();
});
