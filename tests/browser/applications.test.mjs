// Browser tests of applications: 新增申请书 → 编辑申请书 (every section, attachments) → 提交;
// the unit admin's 申请书审核 updated live over the WebSocket, 办理 with an opinion and 退回;
// the applicant's page turning to 已退回 in red, 提交 again (2/3); the unit's 提交 to the
// recommending unit; 收回; 更改资格; 评审委员会. Run through tests/browser/run.sh.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  BASE, PASSWORD, CHINESE, digits, idNumber, creditCode, phone, validCreditCode,
  useBrowser, go, login, demoAccounts, screenshot, waitForText, registerApplicant, confirmDialog,
  SECTION_DATA, WITH_ATTACHMENTS, section, fillSection, saved, uploadTo, submittedApplication,
} from './helpers.mjs';

const b = useBrowser();

const REGION_COMMITTEE = '650000-GC-G';
const OPINION = '学历证书扫描件不清晰，请重新上传清晰的扫描件。';

// ---------- setup ----------

let node;        // this node's id
let unit;        // the demo unit: {credit_code, name, login, password}, complete, recommending the demo dept
let dept;        // the demo dept admin entry

before(async () => {
  node = (await (await fetch(BASE + '/api/v1/health')).json()).node;
  const accounts = demoAccounts();
  const demo = accounts.find((a) => a.role === 'unit_admin' && a.node === node);
  dept = accounts.find((a) => a.role === 'dept_admin' && a.node === node);
  assert.ok(demo && dept, 'demo unit admin and dept admin of this node');
  assert.ok(validCreditCode(demo.credit_code), `the demo unit's credit code ${demo.credit_code} is valid`);
  const login = await fetch(BASE + '/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: demo.login, password: demo.password }),
  });
  assert.equal(login.status, 200);
  const me = await login.json();
  unit = { credit_code: demo.credit_code, name: me.account.unit.name, login: demo.login, password: demo.password };
});

const facts = (page, what) => page.locator(`[data-testid="facts"] [data-testid="${what}"] .fact-value`);
const liveOpen = (page) => page.waitForSelector('body[data-live="open"]');


// Shared between the tests of the main flow, which run in order.
const flow = { applicant: null, page: null, unitPage: null, id: '' };

// ---------- (a) applicant: 新增申请书, every section, attachments, 提交 ----------

test('applicant: 我的申请书 → 新增申请书 with the committee shown first, every section filled, attachments, 提交', async () => {
  const page = await b.open('#/');
  flow.page = page;
  flow.applicant = await registerApplicant(page, '古丽娜尔');

  // 我的主页 → 我的职称 → 我的申请书
  await go(page, '#/me');
  await page.locator('.menu-list a[href="#/applications"]').click();
  await page.waitForFunction(() => window.location.hash === '#/applications');
  await page.locator('[data-testid="empty"]').waitFor();
  assert.ok(await page.locator('#nav-links a[href="#/applications"]').count() === 1, '我的申请书 in the navigation');
  await page.getByRole('link', { name: '新增申请书' }).first().click();
  await page.waitForFunction(() => window.location.hash === '#/applications/new');

  // year: this year or next (the form appears once the catalogue has loaded)
  await page.locator('[data-field="year"] option').first().waitFor({ state: 'attached' });
  const years = await page.locator('[data-field="year"] option').allTextContents();
  assert.equal(years.length, 2);
  assert.match(years[0], /^\d{4}年度$/);

  await page.locator('[data-field="series"] select').selectOption('GC');
  await page.locator('[data-field="specialty"] select').selectOption('GC-JZ');
  const quals = await page.locator('[data-field="qualification"] option').allTextContents();
  assert.ok(quals.includes('高级工程师（副高级）'), quals.join());
  await page.locator('[data-field="qualification"] select').selectOption('GC3');

  // the unit by a part of its name, then picked among the matches
  await page.locator('#unit-q').fill(unit.name.slice(-8));
  await page.getByRole('button', { name: '查询' }).click();
  const radio = page.locator(`.unit-list input[value="${unit.credit_code}"]`);
  await radio.waitFor();
  await radio.check();
  await page.locator('.unit-picked').waitFor({ state: 'visible' });

  // 工程师 has no committee for this unit: the 409 wrong_jurisdiction message
  await page.getByRole('button', { name: '下一步' }).click();
  const alert = page.locator('form .form-alert');
  await alert.waitFor({ state: 'visible' });
  assert.match(await alert.textContent(), /工程师/);
  assert.match(await alert.textContent(), /高级工程师/, 'the message names what is possible');

  await page.locator('[data-field="qualification"] select').selectOption('GC4');
  await screenshot(page, 'app-new-choose.png');
  await page.getByRole('button', { name: '下一步' }).click();
  const card = page.locator(`[data-testid="committee"][data-committee="${REGION_COMMITTEE}"]`);
  await card.waitFor();
  const cardText = await card.textContent();
  assert.match(cardText, /评审委员会/);
  assert.match(cardText, /申报中/, 'the window is open');
  assert.match(cardText, /\d+ 元/, 'the fee');
  assert.match(cardText, /3 次/, 'the submission limit');
  assert.match(await page.locator('main').textContent(), /高级工程师（副高级）/);
  await screenshot(page, 'app-new-confirm.png');
  await page.getByRole('button', { name: '确认新增' }).click();
  await page.waitForFunction(() => window.location.hash.startsWith('#/applications/edit?id='));
  flow.id = decodeURIComponent(await page.evaluate(() => window.location.hash.split('id=')[1]));
  await page.locator('[data-testid="facts"]').waitFor();
  assert.match(await facts(page, 'qualification').textContent(), /高级工程师（副高级）/);
  assert.match(await facts(page, 'status').textContent(), /草稿/);
  assert.match(await facts(page, 'committee').textContent(), /工程系列高级职称评审委员会/);
  assert.match(await facts(page, 'count').textContent(), /已提交 0 次 \/ 上限 3 次/);

  // 提交 before anything is filled: the server's refusal names the section
  await page.locator('.facts-actions').getByRole('button', { name: '提交' }).click();
  assert.match(await confirmDialog(page, '确认提交'), /这将是第 1 次提交，上限 3 次/);
  const pageAlert = page.locator('[data-testid="page-messages"] .form-alert');
  await pageAlert.waitFor({ state: 'visible' });
  assert.match(await pageAlert.textContent(), /“基本信息”栏目/);
  assert.match(await pageAlert.textContent(), /前往“基本信息”栏目/);

  // required fields are marked; select options come from the section
  assert.ok(await section(page, 'basic').locator('[data-field="gender"] .req').count() === 1);
  assert.deepEqual(await section(page, 'basic').locator('[data-field="gender"] option').allTextContents(), ['请选择', '男', '女']);

  // a value the server refuses: its message next to the field
  await fillSection(page, 'papers', { count: '-5' });
  const countErr = section(page, 'papers').locator('[data-field="count"] .field-error');
  await countErr.waitFor({ state: 'visible' });
  assert.match(await countErr.textContent(), /论文著作数量/);

  for (const [name, data] of Object.entries(SECTION_DATA)) {
    await fillSection(page, name, data);
    await saved(page, name);
  }
  // still missing: the required attachments
  assert.match(await section(page, 'education').locator('[data-testid="section-state"]').textContent(), /须上传证明材料/);
  for (const name of WITH_ATTACHMENTS) await uploadTo(page, name, `${name}-证明.png`);
  for (const name of Object.keys(SECTION_DATA)) {
    await waitForText(page, `section[data-section="${name}"] [data-testid="section-state"]`, /已填写完整/);
  }
  const link = section(page, 'education').locator('.attachments a.att-name').first();
  assert.match(await link.getAttribute('href'), new RegExp(`/api/v1/applications/${flow.id}/attachments/`));
  assert.match(await section(page, 'education').locator('.attachments li').first().textContent(), /PNG/);
  const fileStatus = await page.evaluate(async (href) => (await fetch(href)).status, await link.getAttribute('href'));
  assert.equal(fileStatus, 200, 'the attachment opens');
  // an attachment uploaded by mistake is deleted
  await uploadTo(page, 'awards', '多余的附件.png');
  await section(page, 'awards').getByRole('button', { name: '删除附件 多余的附件.png' }).click();
  assert.match(await confirmDialog(page, '删除'), /多余的附件\.png/);
  await section(page, 'awards').locator('.attachments').waitFor({ state: 'detached' });
  assert.match(await section(page, 'awards').locator('.attach-block').textContent(), /暂无附件/);
  await screenshot(page, 'app-edit-draft.png');

  // the unit admin watches 申请书审核 in another browser context before the submission
  const unitPage = await b.open('#/');
  flow.unitPage = unitPage;
  await login(unitPage, unit.login, unit.password);
  await go(unitPage, '#/review/queue');
  await unitPage.locator('main h1').filter({ hasText: '申请书审核' }).waitFor();
  await liveOpen(unitPage);
  await unitPage.evaluate(() => { window.__notReloaded = true; });

  await liveOpen(page);
  await page.locator('.facts-actions').getByRole('button', { name: '提交' }).click();
  assert.match(await confirmDialog(page, '确认提交'), /这将是第 1 次提交，上限 3 次/);
  await waitForText(page, '[data-testid="facts"] [data-testid="status"]', /单位审核中/);
  assert.match(await facts(page, 'count').textContent(), /已提交 1 次 \/ 上限 3 次/);
  assert.equal(await page.locator('.section-form').count(), 0, 'read-only while the unit reviews');
  assert.equal(await page.locator('.facts-actions').getByRole('button', { name: '收回' }).count(), 1, '收回 while the unit has not acted');
  // before the formal review only the test form, which the applicant downloads to check
  assert.match(await facts(page, 'number').textContent(), /\d{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}/);
  const formLink = page.locator('[data-testid="form-link"]');
  assert.equal((await formLink.textContent()).trim(), '下载评审表（测试表）');
  const [download] = await Promise.all([page.waitForEvent('download'), formLink.click()]);
  assert.match(download.suggestedFilename(), /^评审表（测试表）-\d{4}-[0-9A-F-]+\.pdf$/);
  assert.equal(fs.readFileSync(await download.path()).subarray(0, 5).toString(), '%PDF-');
  b.assertNoPageErrors();
});

// ---------- (b) the unit admin sees it live, writes an opinion, 退回 ----------

test('unit admin: the new application appears in 申请书审核 live; 办理 with an opinion on one section, 退回', async () => {
  const page = flow.unitPage;
  const row = page.locator(`tr[data-id="${flow.id}"]`);
  await row.waitFor();
  assert.equal(await page.evaluate(() => window.__notReloaded), true, 'no reload: the WebSocket brought it');
  await page.locator('.toast', { hasText: '有新的待审核申请书' }).waitFor();
  assert.match(await row.textContent(), /古丽娜尔/);
  assert.match(await row.textContent(), /单位审核中/);
  await screenshot(page, 'review-queue.png');

  await row.getByRole('link', { name: '办理' }).click();
  await page.locator('[data-testid="decisions"]').waitFor();
  // every section read-only with its values and the attachment links
  assert.match(await section(page, 'education').locator('.section-values').textContent(), /新疆大学/);
  assert.equal(await section(page, 'education').locator('.attachments a.att-name').count(), 1);
  const opinion = section(page, 'education').locator('.opinion-form');
  await opinion.locator('textarea').fill(OPINION);
  await opinion.getByRole('button', { name: '保存' }).click();
  await opinion.locator('.form-status').waitFor({ state: 'visible' });
  assert.match(await opinion.locator('.form-status').textContent(), /意见已保存/);
  const decisions = page.locator('[data-testid="decisions"]');
  assert.equal(await decisions.getByRole('button', { name: '提交' }).count(), 1);
  assert.equal(await decisions.locator('select option').count() >= 1, true, 'the recommending units to choose from');
  await screenshot(page, 'review-handle.png');

  await decisions.getByRole('button', { name: '退回' }).click();
  assert.match(await confirmDialog(page, '确认退回'), /退回申请人/);
  await waitForText(page, '[data-testid="facts"] [data-testid="status"]', /已退回/);
  assert.match(await page.locator('[data-testid="page-messages"] .form-status').textContent(), /已退回/);
  assert.equal(await page.locator('[data-testid="decisions"]').count(), 0, 'nothing more to decide');
  b.assertNoPageErrors();
});

// ---------- (c) the applicant's page turns to 已退回, fixed and submitted again ----------

test('applicant: the open page turns to 已退回 in red with the opinion; the section is fixed and 提交 again (2/3)', async () => {
  const page = flow.page;
  const banner = page.locator('[data-testid="returned-banner"]');
  await banner.waitFor(); // live, without a reload
  assert.match(await banner.textContent(), /基层单位退回/);
  const red = await banner.evaluate((e) => getComputedStyle(e).color);
  assert.equal(red, 'rgb(179, 38, 30)', 'the banner is red');
  const op = section(page, 'education').locator('.opinion.current');
  await op.waitFor();
  assert.match(await op.textContent(), new RegExp(OPINION));
  assert.equal(await op.evaluate((e) => getComputedStyle(e).color), 'rgb(179, 38, 30)', 'the opinion is red');
  assert.match(await facts(page, 'status').textContent(), /已退回（基层单位退回）/);
  await page.locator('.toast', { hasText: '申请书状态已更新：已退回' }).waitFor();
  assert.ok(await page.locator('.toc-item.flagged').count() === 1, 'the section with an opinion is flagged');
  await screenshot(page, 'app-returned.png');

  // after a reload it is the same
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await banner.waitFor();
  assert.match(await section(page, 'education').locator('.opinion.current').textContent(), new RegExp(OPINION));

  await fillSection(page, 'education', { school: '新疆大学（本科）' });
  await saved(page, 'education');
  await uploadTo(page, 'education', '学历证书-清晰版.png');
  await liveOpen(page);
  await page.locator('.facts-actions').getByRole('button', { name: '提交' }).click();
  assert.match(await confirmDialog(page, '确认提交'), /这将是第 2 次提交，上限 3 次/);
  await waitForText(page, '[data-testid="facts"] [data-testid="status"]', /单位审核中/);
  assert.match(await facts(page, 'count').textContent(), /已提交 2 次 \/ 上限 3 次/);
  assert.equal(await banner.count(), 0);
  // the history at the bottom
  const history = await page.locator('[data-testid="history"]').textContent();
  for (const w of ['新增申请书', '提交', '退回', '基层单位管理员', '草稿 → 单位审核中', '单位审核中 → 已退回']) assert.ok(history.includes(w), w);
  b.assertNoPageErrors();
});

// ---------- (d) the unit submits to the recommending unit ----------

test('unit admin: 提交 with the recommendation to the demo recommending unit; 推荐单位审核中 everywhere', async () => {
  const page = flow.unitPage;
  // the open 办理 page brings the decisions back live
  const decisions = page.locator('[data-testid="decisions"]');
  await decisions.waitFor();
  await page.locator('[data-field="recommendation"] textarea').fill('该同志政治立场坚定，业务能力强，工作业绩突出，同意推荐。');
  await page.locator('[data-field="dept"] select').selectOption(dept.dept);
  await decisions.getByRole('button', { name: '提交' }).click();
  assert.match(await confirmDialog(page, '确认提交'), /提交推荐单位/);
  await waitForText(page, '[data-testid="facts"] [data-testid="status"]', /推荐单位审核中/);

  // 申请书查询 with a status filter, 查看
  await go(page, '#/review/all');
  await page.locator('#status-filter').selectOption('dept_review');
  const row = page.locator(`tr[data-id="${flow.id}"]`);
  await row.waitFor();
  assert.equal(await row.getByRole('link', { name: '查看' }).count(), 1);
  await page.locator('#status-filter').selectOption('draft');
  await row.waitFor({ state: 'detached' });

  // the applicant's list
  const app = flow.page;
  await go(app, '#/applications');
  const mine = app.locator(`tr[data-id="${flow.id}"]`);
  await mine.waitFor();
  assert.match(await mine.locator('[data-testid="status"]').textContent(), /推荐单位审核中/);
  assert.match(await mine.textContent(), /2 \/ 3/);
  await screenshot(app, 'app-list.png');
  // 我的主页 → 我的职称 shows it too
  await go(app, '#/me');
  const titles = app.locator('[data-testid="my-titles"]');
  await titles.waitFor();
  assert.match(await titles.textContent(), /高级工程师/);
  assert.match(await titles.textContent(), /推荐单位审核中/);
  await screenshot(app, 'me-titles.png');

  // the recommending unit has it in its queue
  const deptPage = await b.open('#/');
  await login(deptPage, dept.login, dept.password);
  await go(deptPage, '#/review/queue');
  await deptPage.locator(`tr[data-id="${flow.id}"]`).waitFor();
  await deptPage.context().close();
  await page.context().close();
  await app.context().close();
  b.assertNoPageErrors();
});

// ---------- (e) the recommending unit and the committee ----------

test('dept admin 提交 to the committee; the committee 形式审查通过, 提交会议评审, 评审通过', async () => {
  const accounts = demoAccounts();
  const deptPage = await b.open('#/');
  await login(deptPage, dept.login, dept.password);
  await go(deptPage, '#/review/handle?id=' + flow.id);
  const decisions = deptPage.locator('[data-testid="decisions"]');
  await decisions.waitFor();
  assert.match(await deptPage.locator('main').textContent(), /单位推荐意见/);
  await decisions.getByRole('button', { name: '提交' }).click();
  assert.match(await confirmDialog(deptPage, '确认提交'), /报送评审委员会/);
  await waitForText(deptPage, '[data-testid="facts"] [data-testid="status"]', /评委会形式审查中/);
  await deptPage.context().close();

  const cmte = accounts.find((a) => a.role === 'committee_admin' && a.committee === REGION_COMMITTEE);
  const page = await b.open('#/');
  await login(page, cmte.login, cmte.password);
  await go(page, '#/review/queue');
  await page.locator(`tr[data-id="${flow.id}"]`).getByRole('link', { name: '办理' }).click();
  const steps = [['形式审查通过', '形式审查通过'], ['提交会议评审', '会议评审中'], ['评审通过', '评审通过']];
  for (const [button, status] of steps) {
    const d = page.locator('[data-testid="decisions"]');
    await d.waitFor();
    await d.getByRole('button', { name: button, exact: true }).click();
    await confirmDialog(page, '确认' + button);
    await waitForText(page, '[data-testid="facts"] [data-testid="status"]', status);
  }
  assert.equal(await page.locator('[data-testid="decisions"]').count(), 0);
  const history = await page.locator('[data-testid="history"]').textContent();
  for (const w of ['提交推荐单位', '报送评审委员会', '形式审查通过', '提交会议评审', '评审通过', '评审委员会管理员']) assert.ok(history.includes(w), w);

  // past the formal review: the official form and its code, which anyone checks on 评审表验证
  const code = (await page.locator('[data-testid="facts"] [data-testid="verify-code"]').textContent()).replace('验证码', '').trim();
  assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  const link = page.locator('[data-testid="form-link"]');
  assert.equal((await link.textContent()).trim(), '下载评审表');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const pdf = await download.path().then((f) => fs.readFileSync(f));
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  await page.context().close();
  const visitor = await b.open('#/verify?code=' + code.toLowerCase());
  const result = visitor.locator('[data-testid="verify-result"]');
  await result.waitFor();
  const text = await result.textContent();
  assert.match(text, /验证通过/);
  assert.ok(text.includes(code), text);
  assert.match(text, /高级工程师/);
  await visitor.context().close();
  b.assertNoPageErrors();
});

test('applicant: 评审费 去缴费 in the sandbox gateway; the committee sees it in 缴费名单 and exports CSV', async () => {
  const page = await b.open('#/');
  await login(page, flow.applicant.username, flow.applicant.password);
  await go(page, '#/applications/edit?id=' + encodeURIComponent(flow.id));
  const fee = page.locator('[data-testid="facts"] [data-testid="payment"]');
  await fee.waitFor();
  assert.match(await fee.textContent(), /¥300\.00\s*未缴费/);
  await fee.locator('[data-testid="pay-link"]').click();
  const order = page.locator('[data-testid="pay-order"]');
  await order.waitFor();
  assert.match(await order.textContent(), /职称评审费[\s\S]*¥300\.00/);
  await page.locator('[data-testid="pay-confirm"]').click();
  const done = page.locator('[data-testid="pay-done"]');
  await done.waitFor();
  assert.match(await done.textContent(), /支付成功[\s\S]*SBX/);
  await screenshot(page, 'paysandbox.png');
  await done.locator('[data-testid="pay-back"]').click();
  await page.waitForFunction(() => /已缴费/.test((document.querySelector('[data-testid="facts"] [data-testid="payment"]') || {}).textContent || ''));
  assert.equal(await page.locator('[data-testid="pay-link"]').count(), 0);

  const cmte = demoAccounts().find((a) => a.role === 'committee_admin' && a.committee === REGION_COMMITTEE);
  const admin = await b.open('#/');
  await login(admin, cmte.login, cmte.password);
  await go(admin, '#/committees');
  await admin.locator('[data-testid="payments-link"]').first().click();
  const number = await page.locator('[data-testid="facts"] [data-testid="number"] .fact-value').textContent();
  const row = admin.locator('[data-testid="payments"] tr', { hasText: number.trim() });
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'paid');
  assert.match(await row.textContent(), /古丽娜尔[\s\S]*¥300\.00[\s\S]*已缴费/);
  const [download] = await Promise.all([admin.waitForEvent('download'), admin.locator('[data-testid="payments-csv"]').click()]);
  const csv = await download.path().then((f) => fs.readFileSync(f, 'utf8'));
  assert.ok(csv.startsWith('\ufeff"申请书编号"'), csv.slice(0, 40));
  assert.ok(csv.split('\r\n').some((l) => l.includes(number.trim()) && l.includes('"已缴费"')), csv);
  await admin.context().close();
  await page.context().close();
  b.assertNoPageErrors();
});

test('committee 发布公示, node admin 印发批文 and 颁发证书; the applicant reads them and anyone checks the certificate', async () => {
  const accounts = demoAccounts();
  const cmte = accounts.find((a) => a.role === 'committee_admin' && a.committee === REGION_COMMITTEE);
  const page = await b.open('#/');
  await login(page, cmte.login, cmte.password);
  await go(page, '#/committees');
  await page.locator('[data-testid="publish-link"]').first().click();
  await page.locator(`[data-testid="pick"] tr[data-id="${flow.id}"]`).waitFor();
  await page.getByLabel('公示开始日期').fill('2026-01-05');
  await page.getByLabel('公示截止日期').fill('2026-01-11');
  await page.getByRole('button', { name: '发布公示' }).click();
  const list = page.locator('[data-testid="publicity"]');
  await list.waitFor();
  assert.match(await list.textContent(), /古丽娜尔[\s\S]*高级工程师/);
  assert.match(await list.textContent(), /公示期满/);
  await page.context().close();

  const visitor = await b.open('#/results');
  await visitor.locator('[data-testid="publicity-list"]').waitFor();
  assert.match(await visitor.locator('[data-testid="publicity-list"]').textContent(), /职称评审结果公示/);
  await visitor.context().close();

  const admin = accounts.find((a) => a.role === 'node_admin' && a.node === node);
  const hr = await b.open('#/');
  await login(hr, admin.login, admin.password);
  await go(hr, '#/approvals/new');
  await hr.locator(`[data-testid="pick"] tr[data-id="${flow.id}"]`).waitFor();
  await hr.getByLabel('文号').fill('新人社职字〔2026〕3号');
  await hr.getByRole('button', { name: '印发批文' }).click();
  await hr.locator('[data-testid="approval"]').waitFor();
  await hr.locator('[data-testid="certify"]').click();
  await confirmDialog(hr, '颁发');
  const cell = hr.locator(`[data-testid="result-items"] tr[data-application="${flow.id}"] a.mono`);
  await cell.waitFor();
  const number = (await cell.textContent()).trim();
  assert.match(number, /^650000-\d{4}-\d{6}$/);
  await screenshot(hr, 'approval.png');
  await hr.context().close();

  const mine = await b.open('#/');
  await login(mine, flow.applicant.username, flow.applicant.password);
  await go(mine, '#/applications/edit?id=' + encodeURIComponent(flow.id));
  await waitForText(mine, '[data-testid="facts"] [data-testid="status"]', /已发证/);
  assert.match(await mine.locator('[data-testid="facts"] [data-testid="approval"]').textContent(), /新人社职字〔2026〕3号/);
  await mine.locator('[data-testid="facts"] [data-testid="certificate"] a').click();
  // the certificate page, once it has replaced the application's (whose facts bar has a
  // [data-testid="certificate"] of its own): pages load when first opened
  await mine.waitForFunction(() => window.location.hash.startsWith('#/certificate'));
  await mine.locator('[data-testid="facts"]').waitFor({ state: 'detached' });
  const card = mine.locator('[data-testid="certificate"]');
  await card.waitFor();
  assert.match(await card.textContent(), /证书有效[\s\S]*古丽娜尔[\s\S]*高级工程师/);
  assert.ok((await card.textContent()).includes(number));
  const qr = card.locator('.cert-qr img');
  await qr.waitFor();
  await mine.waitForFunction((el) => el.complete && el.naturalWidth > 100, await qr.elementHandle());
  await screenshot(mine, 'certificate.png');
  await mine.context().close();
  b.assertNoPageErrors();
});

test('评审表验证: a code that was never issued is refused in Chinese', async () => {
  const page = await b.open('#/verify');
  await page.getByLabel('验证码').fill('0000-0000-0000-0000');
  await page.getByRole('button', { name: '验证' }).click();
  await page.locator('[role="alert"]').filter({ hasText: '没有找到这个验证码' }).waitFor();
  assert.equal(await page.locator('[data-testid="verify-result"]').count(), 0);
  await page.context().close();
  b.assertNoPageErrors();
});

// ---------- 收回 and 更改资格 ----------

test('收回 while the unit has not acted, then 更改资格 with the new committee shown first', async () => {
  const page = await b.open('#/');
  const id = await submittedApplication(page, unit.credit_code);
  await go(page, '#/applications/edit?id=' + id);
  await page.locator('[data-testid="facts"]').waitFor();
  assert.match(await page.locator('main h1').textContent(), /查看申请书/);
  assert.equal(await page.locator('.facts-actions').getByRole('button', { name: '更改资格' }).count(), 0, 'no 更改资格 while under review');

  await page.locator('.facts-actions').getByRole('button', { name: '收回' }).click();
  assert.match(await confirmDialog(page, '确认收回'), /草稿/);
  await waitForText(page, '[data-testid="facts"] [data-testid="status"]', /草稿/);
  assert.match(await page.locator('[data-testid="page-messages"] .form-status').textContent(), /已收回/);
  assert.equal(await page.locator('.facts-actions').getByRole('button', { name: '收回' }).count(), 0);
  assert.equal(await page.locator('.facts-actions').getByRole('button', { name: '提交' }).count(), 1);
  assert.ok(await page.locator('.section-form').count() > 0, 'editable again');
  assert.match(await page.locator('[data-testid="history"]').textContent(), /收回/);

  // 更改资格: a qualification without a committee is refused with the reason ...
  await page.locator('.facts-actions').getByRole('button', { name: '更改资格' }).click();
  const box = page.locator('[data-testid="change-qualification"]');
  await box.waitFor();
  await box.locator('[data-field="qualification"] select').selectOption('GC3');
  await box.getByRole('button', { name: '查看评审委员会' }).click();
  await box.locator('.form-alert').waitFor({ state: 'visible' });
  assert.match(await box.locator('.form-alert').textContent(), /工程师/);

  // ... another one shows its committee first, then changes
  await box.locator('[data-field="specialty"] select').selectOption('GC-DZ');
  await box.locator('[data-field="qualification"] select').selectOption('GC5');
  await box.getByRole('button', { name: '查看评审委员会' }).click();
  await box.locator(`[data-testid="committee"][data-committee="${REGION_COMMITTEE}"]`).waitFor();
  await screenshot(page, 'app-change-qualification.png');
  await box.getByRole('button', { name: '确认更改' }).click();
  await waitForText(page, '[data-testid="facts"] [data-testid="qualification"]', /正高级工程师/);
  assert.match(await facts(page, 'qualification').textContent(), /正高级工程师（正高级）/);
  assert.match(await facts(page, 'specialty').textContent(), /电子信息/);
  assert.equal(await box.count(), 0, 'the panel closes');
  assert.match(await page.locator('[data-testid="history"]').textContent(), /更改资格/);
  // the section data stayed
  assert.equal(await section(page, 'education').locator('[data-field="school"] input').inputValue(), SECTION_DATA.education.school);
  await page.context().close();
  b.assertNoPageErrors();
});

// ---------- a unit whose information is incomplete ----------

test('an incomplete unit cannot review: the refusal links to 完善单位信息', async () => {
  const code = creditCode();
  const r = await fetch(BASE + '/api/v1/units', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ credit_code: code, name: `新疆未完善测试有限公司${digits(6)}`, short_name: `未完善${digits(6)}`, contact: '王建新', phone: phone(), password: PASSWORD, node }),
  });
  assert.equal(r.status, 201);
  const username = (await r.json()).account.username;
  const applicantPage = await b.open('#/');
  const id = await submittedApplication(applicantPage, code);
  await applicantPage.context().close();

  const page = await b.open('#/');
  await login(page, username, PASSWORD);
  await go(page, '#/review/handle?id=' + id);
  await page.locator('[data-testid="decisions"] .notice a[href="#/unit/info"]').waitFor();
  const form = section(page, 'basic').locator('.opinion-form');
  await form.locator('textarea').fill('请核对出生日期。');
  await form.getByRole('button', { name: '保存' }).click();
  const alert = form.locator('.form-alert');
  await alert.waitFor({ state: 'visible' });
  assert.match(await alert.textContent(), /单位信息不完整/);
  await alert.getByRole('link', { name: '完善单位信息' }).click();
  await page.waitForFunction(() => window.location.hash === '#/unit/info');
  await page.context().close();
  b.assertNoPageErrors();
});

// ---------- 评审委员会 ----------

test('评审委员会: the node admin edits a committee and its windows; a committee admin sees its own', async () => {
  const accounts = demoAccounts();
  const admin = accounts.find((a) => a.role === 'node_admin' && a.node === node);
  const page = await b.open('#/');
  await login(page, admin.login, admin.password);
  await page.locator('#nav-links a[href="#/committees"]').click();
  const card = page.locator(`section.committee[data-committee="${REGION_COMMITTEE}"]`);
  await card.waitFor();
  assert.ok(await page.locator('section.committee').count() >= 2, 'the node\'s committees');
  const text = await card.textContent();
  for (const w of ['评审范围', '工程系列', '提交次数上限', '评审费', '纸质材料报送日期', '报送内容', '装订方式', '建筑工程', '申报中']) assert.ok(text.includes(w), w);
  await screenshot(page, 'committees.png');

  await card.getByRole('button', { name: '编辑' }).click();
  await card.locator('[data-field="fee"] input').waitFor();
  await screenshot(page, 'committee-edit.png');
  await card.locator('[data-field="fee"] input').fill('320');
  const closes = card.locator('tr[data-specialty="GC-JZ"] input[type="date"]').nth(1);
  const old = await closes.inputValue();
  const later = new Date(Date.parse(old) + 10 * 86400e3).toISOString().slice(0, 10);
  await closes.fill(later);
  // a window with one date only is caught before the server
  const opensDZ = card.locator('tr[data-specialty="GC-DZ"] input[type="date"]').first();
  const keepDZ = await opensDZ.inputValue();
  await opensDZ.fill('');
  // 报送日期 whose first day is after its last is caught too
  await card.getByLabel('纸质材料报送开始日期').fill('2026-03-21');
  await card.getByLabel('纸质材料报送截止日期').fill('2026-03-01');
  await card.getByLabel('装订方式').fill('A4纸左侧装订成册，封面注明姓名');
  await card.getByRole('button', { name: '保存' }).click();
  await card.locator('[data-field="windows"] .field-error').waitFor({ state: 'visible' });
  assert.match(await card.locator('[data-field="paper_until"] .field-error').textContent(), /开始日期不能晚于截止日期/);
  await opensDZ.fill(keepDZ);
  await card.getByLabel('纸质材料报送开始日期').fill('2026-03-01');
  await card.getByLabel('纸质材料报送截止日期').fill('2026-03-20');
  await card.getByRole('button', { name: '保存' }).click();
  await card.locator('.form-status').waitFor();
  assert.match(await card.textContent(), /320 元/);
  assert.ok((await card.textContent()).includes(later), 'the new closing date');
  assert.match(await card.textContent(), /2026-03-01 至 2026-03-20[\s\S]*A4纸左侧装订成册/);
  await page.context().close();

  // 联系评审委员会目录: anyone reads the committee's contact and paper rules, by region
  const visitor = await b.open('#/directory');
  await visitor.locator('#directory-node').selectOption(node);
  const entry = visitor.locator(`[data-testid="directory"] section[data-committee="${REGION_COMMITTEE}"]`);
  await entry.waitFor();
  assert.match(await entry.textContent(), /联系电话[\s\S]*纸质材料报送日期2026-03-01 至 2026-03-20[\s\S]*装订方式A4纸左侧装订成册/);
  assert.ok(await visitor.locator('[data-testid="directory"] section.committee').count() >= 2);
  await screenshot(visitor, 'directory.png');
  await visitor.context().close();

  const cmte = accounts.find((a) => a.role === 'committee_admin' && a.node === node && a.committee !== REGION_COMMITTEE);
  const own = await b.open('#/');
  await login(own, cmte.login, cmte.password);
  await go(own, '#/committees');
  await own.locator(`section.committee[data-committee="${cmte.committee}"]`).waitFor();
  assert.equal(await own.locator('section.committee').count(), 1, 'only its own committee');
  await own.context().close();
  b.assertNoPageErrors();
});

test('a narrow screen: the application page stays readable', async () => {
  const page = await b.open('#/');
  const id = await submittedApplication(page, unit.credit_code);
  await page.setViewportSize({ width: 390, height: 844 });
  await go(page, '#/applications/edit?id=' + id);
  await page.locator('[data-testid="facts"]').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
  assert.match(await page.locator('main').textContent(), CHINESE);
  await screenshot(page, 'app-view-mobile.png');
  await page.context().close();
  b.assertNoPageErrors();
});
