// qrlogin.js - 扫码登录. On the login page: a QR code for a phone already logged in to
// scan (POST /qr-login, the image from /qr-login/{code}/qr.png), a WebSocket (subprotocol
// "zc-qr") that hears the phone's decision, then the session taken by this browser
// (POST /qr-login/{code}/session). On the phone (#/qr?code=): which region and which
// browser asks, and 确认登录 or 拒绝 (POST /qr-login/{code}/decision).
import { post, get } from '../api.js';
import { h, clear, pageHeader, messageArea, runAction, dl, formatTime, refText } from '../ui.js';

const enc = encodeURIComponent;

// "Chrome · Windows" from a User-Agent, for the phone to recognise its desktop.
export function agentSummary(ua) {
  const browsers = [[/Edg\//, 'Edge'], [/Firefox\//, 'Firefox'], [/Chrome\//, 'Chrome'], [/Safari\//, 'Safari']];
  const systems = [[/Windows/, 'Windows'], [/Android/, 'Android'], [/iPhone|iPad/, 'iOS'], [/Mac OS X/, 'macOS'], [/Linux/, 'Linux']];
  const pick = (list) => (list.find(([re]) => re.test(ua || '')) || [null, '未知'])[1];
  return `${pick(browsers)} 浏览器 · ${pick(systems)}`;
}

function socketUrl(code) {
  return (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + '/ws/qr?code=' + enc(code);
}

// The login page's panel. onLoggedIn(body) receives the POST /session-like answer.
export function qrLoginPanel(onLoggedIn) {
  const msgs = messageArea();
  const box = h('div', { class: 'qr-login', dataset: { testid: 'qr-login' } });
  let sock = null;
  let timer = null;
  const stop = () => {
    if (sock) sock.onclose = sock.onmessage = null, sock.close();
    sock = null;
    clearInterval(timer);
  };
  const again = (text) => {
    stop();
    clear(box, h('p', { class: 'qr-state', dataset: { state: 'over' }, text }),
      h('button', { type: 'button', class: 'btn', onclick: start, text: '刷新二维码' }));
  };
  async function take(code) {
    const res = await post(`/qr-login/${enc(code)}/session`, {});
    if (res.status === 200) {
      stop();
      onLoggedIn(res.body);
    } else {
      msgs.showError(res.body && res.body.error);
      again('登录未完成，请刷新二维码后重试。');
    }
  }
  async function start() {
    stop();
    msgs.clear();
    const res = await post('/qr-login', {});
    if (res.status !== 201) {
      msgs.showError(res.body && res.body.error);
      return;
    }
    const { code } = res.body;
    let left = res.body.expires_in;
    const count = h('span', { class: 'qr-left', text: String(left) });
    clear(box,
      h('img', { class: 'qr-image', src: `/api/v1/qr-login/${enc(code)}/qr.png`, width: 185, height: 185,
        alt: '扫码登录二维码：请用已登录本系统的手机扫描' }),
      h('p', { class: 'qr-state', dataset: { state: 'waiting' }, 'aria-live': 'polite' },
        '请用已登录本系统的手机扫描二维码，并在手机上确认登录。', h('br'), '二维码 ', count, ' 秒后失效。'));
    timer = setInterval(() => {
      left = Math.max(0, left - 1);
      count.textContent = String(left);
    }, 1000);
    sock = new WebSocket(socketUrl(code), 'zc-qr');
    sock.onmessage = (ev) => {
      let m = {};
      try { m = JSON.parse(ev.data); } catch { /* ignored */ }
      if (m.type === 'approved') take(code);
      else if (m.type === 'refused') again('手机上已拒绝本次登录。');
      else if (m.type === 'expired') again('二维码已失效。');
    };
    sock.onclose = () => again('与服务器的连接已断开。');
  }
  return h('section', { class: 'card qr-card', 'aria-labelledby': 'qr-title' },
    h('h2', { id: 'qr-title', text: '扫码登录' }),
    h('p', { class: 'hint', text: '手机已登录本系统时，扫码即可在这台电脑上登录，无需输入密码。' }),
    msgs.el, box,
    h('button', { type: 'button', class: 'btn', onclick: (ev) => { ev.currentTarget.remove(); start(); }, text: '显示登录二维码' }));
}

// #/qr?code=: the phone decides.
export async function qrApprovePage({ query }) {
  const code = query.get('code') || '';
  const msgs = messageArea();
  const res = await get('/qr-login/' + enc(code));
  const wrap = (...kids) => h('div', { class: 'narrow' }, pageHeader('扫码登录', '确认是否在其他设备上登录您的账号'), msgs.el, ...kids);
  if (res.status !== 200) {
    msgs.showError(res.body && res.body.error);
    return wrap();
  }
  const q = res.body.qr_login;
  const card = h('section', { class: 'card', dataset: { testid: 'qr-approve', state: q.state } },
    dl([
      ['登录区域', refText(q, 'node_name')],
      ['浏览器', agentSummary(q.agent)],
      ['IP 地址', h('span', { class: 'mono', dir: 'ltr', text: q.address })],
      ['请求时间', formatTime(q.created)],
      ['状态', q.state_name],
    ]));
  if (q.state === 'pending') {
    const decide = async (approve, buttons) => {
      const r = await runAction(msgs, buttons, () => post(`/qr-login/${enc(code)}/decision`, { approve }));
      if (r && r.status === 200) {
        card.dataset.state = r.body.state;
        buttons.forEach((b) => b.remove());
        msgs.setStatus(r.body.message);
      }
    };
    const yes = h('button', { type: 'button', class: 'btn primary', text: '确认登录' });
    const no = h('button', { type: 'button', class: 'btn danger', text: '拒绝' });
    yes.onclick = () => decide(true, [yes, no]);
    no.onclick = () => decide(false, [yes, no]);
    card.append(h('p', { class: 'warn-text', text: '如果不是您本人正在登录，请点击“拒绝”。' }), h('div', { class: 'actions' }, yes, no));
  }
  return wrap(card);
}
