// Browser test of 扫码登录: a desktop's login page shows a QR code; a phone (375 px) logged
// in to the portal opens the code's page, sees the region and the desktop's browser, and
// approves: the desktop logs in by itself over its zc-qr socket. A phone not yet logged in
// is sent through the login page to the code's page and refuses: the desktop says so and
// offers a new code. Run through tests/browser/run.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, go, field, screenshot, registerApplicant, waitForText } from './helpers.mjs';

const b = useBrowser();
const PHONE_UA = 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36';

const phoneContext = () => b.browser.newContext({ locale: 'zh-CN', viewport: { width: 375, height: 740 }, userAgent: PHONE_UA,
  isMobile: true, hasTouch: true });

// The desktop's login page with its QR code shown: (page, the code).
async function desktopWithCode() {
  const page = await b.open('#/login');
  await page.getByRole('button', { name: '显示登录二维码' }).click();
  const img = page.locator('[data-testid="qr-login"] img.qr-image');
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 100, await img.elementHandle());
  const code = /qr-login\/([0-9a-f]{32})\/qr\.png/.exec(await img.getAttribute('src'))[1];
  return { page, code };
}

test('扫码登录: the phone approves and the desktop logs in by itself', async () => {
  const { page: desk, code } = await desktopWithCode();
  assert.match(await desk.locator('[data-testid="qr-login"]').textContent(), /秒后失效/);
  await screenshot(desk, 'qr-login.png');

  const phone = await b.open('#/', await phoneContext());
  const who = await registerApplicant(phone, '热依拉');
  await go(phone, '#/qr?code=' + code);
  const card = phone.locator('[data-testid="qr-approve"][data-state="pending"]');
  await card.waitFor();
  const text = await card.textContent();
  assert.match(text, /登录区域\s*自治区/);
  assert.match(text, /Chrome 浏览器 · Linux/, 'the desktop browser is named');
  await screenshot(phone, 'qr-approve.png');
  await phone.getByRole('button', { name: '确认登录' }).click();
  await waitForText(phone, '.form-status', /已确认/);
  assert.equal(await phone.locator('[data-testid="qr-approve"]').getAttribute('data-state'), 'approved');

  await desk.waitForFunction(() => window.location.hash === '#/me');
  await waitForText(desk, 'main', new RegExp(who.username));
  const me = await desk.evaluate(async () => (await (await fetch('/api/v1/me')).json()).account.username);
  assert.equal(me, who.username);
  await desk.context().close();
  await phone.context().close();
  b.assertNoPageErrors();
});

test('扫码登录: a phone not logged in logs in first, then refuses; the desktop offers a new code', async () => {
  const { page: desk, code } = await desktopWithCode();
  const signup = await b.open('#/');
  const who = await registerApplicant(signup, '买买提');
  await signup.context().close();

  const phone = await b.open('#/qr?code=' + code, await phoneContext());
  await phone.waitForFunction(() => window.location.hash.startsWith('#/login?next='));
  await field(phone, 'login').fill(who.username);
  await field(phone, 'password').fill(who.password);
  await phone.locator('form').getByRole('button', { name: '登录' }).click();
  await phone.locator('[data-testid="qr-approve"][data-state="pending"]').waitFor();
  await phone.getByRole('button', { name: '拒绝' }).click();
  await waitForText(phone, '.form-status', /已拒绝/);

  await waitForText(desk, '[data-testid="qr-login"] .qr-state', /手机上已拒绝本次登录/);
  assert.equal(await desk.evaluate(async () => (await fetch('/api/v1/me')).status), 401, 'not logged in');
  await desk.getByRole('button', { name: '刷新二维码' }).click();
  const img = desk.locator('[data-testid="qr-login"] img.qr-image');
  await img.waitFor();
  assert.doesNotMatch(await img.getAttribute('src'), new RegExp(code), 'a new code');
  await desk.context().close();
  await phone.context().close();
  b.assertNoPageErrors();
});
