// Keyboard-only walks of the two longest tasks of the portal (WCAG 2.1.1): an applicant's
// new application from 我的申请书 to 提交 (selects by arrow keys, the unit search, every
// section typed and saved, attachments picked through the file chooser that Space opens,
// the confirmation dialog), and the unit admin's review of it (申请书审核 → 办理, an
// opinion on a section, the recommendation, 提交 and its dialog). No clicks: Tab,
// Shift+Tab, Enter, Space, arrow keys and typing; every control the walk lands on shows
// its focus. The walks of 登录 and 申请人注册 are in a11y.test.mjs. Run through
// tests/browser/run.sh.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, png, useBrowser, login, demoAccounts, registerApplicant, tabTo, focusShown, SECTION_DATA,
  WITH_ATTACHMENTS,
} from './helpers.mjs';

const b = useBrowser();

const OPINION = '学历证书与学信网信息一致。';

let unit;         // the demo unit admin's account
let applicantId;  // the application the first walk submits, which the second reviews

before(async () => {
  const node = (await (await fetch(BASE + '/api/v1/health')).json()).node;
  unit = demoAccounts().find((a) => a.node === node && a.role === 'unit_admin');
  assert.ok(unit, 'a demo unit admin on the region');
});

// The order chromium's date control takes year, month and day in (its locale's), typed
// into a scratch page: 11/12/2013 reads as 2013-11-12 (m/d/y) or 2013-12-11 (d/m/y).
let dateOrder;
async function dateOrderOf() {
  if (dateOrder) return dateOrder;
  const scratch = await (await b.context()).newPage();
  await scratch.setContent('<input type="date" id="d">');
  await scratch.focus('#d');
  await scratch.keyboard.type('11/12/2013');
  const v = await scratch.evaluate(() => document.querySelector('#d').value);
  await scratch.context().close();
  dateOrder = { '2013-11-12': ['m', 'd', 'y'], '2013-12-11': ['d', 'm', 'y'] }[v] || ['y', 'm', 'd'];
  return dateOrder;
}

const active = (page) => page.evaluate(() => {
  const e = document.activeElement;
  return { tag: e.tagName, name: e.name || '', type: e.type || '', text: (e.textContent || '').trim(), value: e.value };
});

// Asserts that the focused element shows its focus.
async function assertFocusShown(page) {
  const f = await focusShown(page);
  assert.ok(f.ok, `the focused ${f.what} shows its focus`);
}

// The focused <select> set to value with the arrow keys (a closed select in chromium
// changes its choice, and fires change, on each press).
async function pickByArrows(page, value) {
  const at = () => page.evaluate(() => document.activeElement.selectedIndex);
  const want = await page.evaluate((v) => [...document.activeElement.options].findIndex((o) => o.value === v || o.textContent === v), value);
  assert.ok(want >= 0, `the option ${value}`);
  for (let i = 0; i < 60 && (await at()) !== want; i++) await page.keyboard.press((await at()) < want ? 'ArrowDown' : 'ArrowUp');
  assert.equal(await at(), want, `${value} chosen by arrow keys`);
}

// Types into the focused control, replacing what it held; a date field as its user reads
// it (chromium's date control, in the order of the browser's locale).
async function typeValue(page, text) {
  const f = await active(page);
  if (f.tag === 'SELECT') return pickByArrows(page, text);
  if (f.type === 'date') { // as the control shows it, separators moving to the next part
    const [y, m, d] = text.split('-');
    await page.keyboard.type((await dateOrderOf()).map((k) => ({ y, m, d })[k]).join('/'));
    assert.equal((await active(page)).value, text, 'the date typed');
    return undefined;
  }
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  return page.keyboard.type(text);
}

// Tabs through the form matching formSel from its first control to its submit button,
// typing values by field name; every field of values must have been reached. Enter on the
// submit button.
async function fillFormByTab(page, formSel, values) {
  await tabTo(page, `${formSel} input, ${formSel} select, ${formSel} textarea`, 200);
  const left = new Set(Object.keys(values));
  for (let i = 0; i < 60; i++) {
    const f = await active(page);
    if (f.tag === 'BUTTON' && (await page.evaluate((s) => document.activeElement.matches(`${s} button[type="submit"]`), formSel))) break;
    if (left.has(f.name)) {
      await assertFocusShown(page);
      await typeValue(page, values[f.name]);
      left.delete(f.name);
    }
    await page.keyboard.press('Tab');
  }
  assert.deepEqual([...left], [], `${formSel}: every field reached by Tab`);
  await assertFocusShown(page);
  await page.keyboard.press('Enter');
}

// Waits for the form's status to say pattern; on a timeout, fails with what the form says
// instead (its alert and field errors).
async function statusSays(page, formSel, pattern) {
  try {
    await page.locator(`${formSel} .form-status`).filter({ hasText: pattern }).waitFor();
  } catch (e) {
    const said = await page.evaluate((s) => [...document.querySelectorAll(`${s} .form-alert, ${s} .field-error:not([hidden])`)]
      .map((x) => `${x.closest('[data-field]')?.dataset.field || 'form'}: ${x.textContent}`), formSel);
    assert.fail(`${formSel} never said ${pattern}: ${said.join('; ') || e.message}`);
  }
}

// The open dialog's button named text, by Tab, then Enter.
async function answerDialog(page, text) {
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor();
  for (let i = 0; i < 10 && (await active(page)).text !== text; i++) await page.keyboard.press('Tab');
  assert.equal((await active(page)).text, text, `the dialog's ${text} by Tab`);
  await page.keyboard.press('Enter');
  await dlg.waitFor({ state: 'detached' });
}

test('keyboard only: an applicant\'s new application from 我的申请书 to 提交', async () => {
  const page = await b.open('#/');
  await registerApplicant(page, '古丽米热');
  await tabTo(page, '#nav-links a[href="#/applications"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.location.hash === '#/applications');
  await tabTo(page, '#main a[href="#/applications/new"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.location.hash === '#/applications/new');
  await page.locator('[data-field="qualification"] select').waitFor();

  // 选择资格与工作单位: the selects by arrow keys, the unit by its search box
  for (const [name, value] of [['series', 'GC'], ['specialty', 'GC-JZ'], ['qualification', 'GC4']]) {
    await tabTo(page, `[data-field="${name}"] select`);
    await assertFocusShown(page);
    await pickByArrows(page, value);
  }
  await tabTo(page, '#unit-q');
  await page.keyboard.type(unit.credit_code);
  await page.keyboard.press('Enter'); // searches, does not submit the form
  await page.locator('.unit-picked').waitFor({ state: 'visible' });
  assert.match(await page.locator('.unit-picked').textContent(), new RegExp(unit.credit_code));
  await tabTo(page, '#main form button[type="submit"]');
  assert.equal((await active(page)).text, '下一步');
  await page.keyboard.press('Enter');
  // 确认评审委员会: the focus is on 确认新增
  await page.locator('[data-testid="committee"]').waitFor();
  assert.equal((await active(page)).text, '确认新增');
  await assertFocusShown(page);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.location.hash.startsWith('#/applications/edit?id='));
  applicantId = decodeURIComponent(new URL(page.url()).hash.split('id=')[1]);
  await page.locator('section[data-section="assessment"] form.section-form').waitFor();

  // every section typed and saved, in page order
  for (const [name, values] of Object.entries(SECTION_DATA)) {
    const sel = `section[data-section="${name}"] form.section-form`;
    await fillFormByTab(page, sel, values);
    await statusSays(page, sel, '已保存');
  }
  // the proofs: Space on the file picker opens the chooser, then 上传附件
  for (const name of WITH_ATTACHMENTS) {
    const sel = `section[data-section="${name}"] form.upload-form`;
    await tabTo(page, `${sel} input[type="file"]`, 200);
    await assertFocusShown(page);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
    await chooser.setFiles({ name: `${name}证明.png`, mimeType: 'image/png', buffer: png() });
    await tabTo(page, `${sel} button[type="submit"]`);
    await page.keyboard.press('Enter');
    await statusSays(page, sel, '已上传');
  }
  for (const name of Object.keys(SECTION_DATA)) {
    assert.match(await page.locator(`section[data-section="${name}"] [data-testid="section-state"]`).textContent(), /✓/, `${name} complete`);
  }

  // 提交, back up the page by Shift+Tab, and its dialog
  await tabTo(page, '.facts-actions button.primary', 400, { back: true });
  assert.equal((await active(page)).text, '提交');
  await assertFocusShown(page);
  await page.keyboard.press('Enter');
  await answerDialog(page, '确认提交');
  await page.locator('[data-testid="facts"] [data-testid="status"]').filter({ hasText: '单位审核中' }).first().waitFor();
  assert.equal(await page.locator('.section-form').count(), 0, 'read-only while the unit reviews');
  await page.context().close();
  b.assertNoPageErrors();
});

test('keyboard only: the unit admin\'s review (办理) with an opinion, the recommendation and 提交', async () => {
  assert.ok(applicantId, 'the walk before submitted an application');
  const page = await b.open('#/');
  await login(page, unit.login, unit.password);
  await tabTo(page, '#nav-links a[href="#/review/queue"]');
  await page.keyboard.press('Enter');
  const row = `tr[data-id="${applicantId}"]`;
  await page.locator(row).waitFor();
  await tabTo(page, `${row} a`, 200);
  assert.equal((await active(page)).text, '办理');
  await assertFocusShown(page);
  await page.keyboard.press('Enter');
  await page.locator('[data-testid="decisions"]').waitFor();

  // an opinion on the education section, saved by Enter on 保存
  const opinion = 'section[data-section="education"] .opinion-form';
  await tabTo(page, `${opinion} textarea`, 200);
  await assertFocusShown(page);
  await page.keyboard.type(OPINION);
  await tabTo(page, `${opinion} button[type="submit"]`);
  await page.keyboard.press('Enter');
  await statusSays(page, opinion, '意见已保存');

  // 提交 without the recommendation: its error is announced and the focus goes to it
  const decide = '[data-testid="decisions"] form';
  await tabTo(page, `${decide} button[type="submit"]`, 200);
  assert.equal((await active(page)).text, '提交');
  await page.keyboard.press('Enter');
  await page.locator('[data-field="recommendation"] .field-error:not([hidden])').waitFor();
  assert.equal((await active(page)).name, 'recommendation');
  await page.keyboard.type('该同志业务能力强，工作业绩突出，同意推荐。');
  await page.keyboard.press('Tab');
  assert.equal((await active(page)).name, 'dept');
  await assertFocusShown(page);
  await tabTo(page, `${decide} button[type="submit"]`);
  await page.keyboard.press('Enter');
  await answerDialog(page, '确认提交');
  await page.locator('[data-testid="page-messages"] .form-status').filter({ hasText: '推荐单位审核中' }).waitFor();
  assert.equal(await page.locator('[data-testid="decisions"]').count(), 0, 'nothing more to decide');
  await page.context().close();
  b.assertNoPageErrors();
});
