// appeals.js - the node admin's desks for account recovery: 账号申诉 (the queue of appeals
// with their scans, approved or rejected with a reason: GET /appeals, POST
// /appeals/{id}/decision) and 消息发件箱 (every message the sender holds: GET /messages).
import { get, post } from '../api.js';
import { h, clear, pageHeader, crumbs, errorPanel, badge, dl, formatTime, createForm, messageArea, runAction, showFile } from '../ui.js';

const enc = encodeURIComponent;
const STATES = [['pending', '待审核'], ['approved', '已通过'], ['rejected', '已驳回'], ['', '全部']];
const STATE_BADGE = { pending: ['待审核', 'warn'], approved: ['已通过', 'ok'], rejected: ['已驳回', 'muted'] };

// The scan, fetched with the session: an image shown, a PDF as a link.
function scanView(a) {
  const box = h('div', { class: 'appeal-scan-box' }, h('p', { class: 'muted', text: '正在加载扫描件…' }));
  get(`/appeals/${enc(a.id)}/scan`).then((res) => {
    if (res.status !== 200 || !(res.body instanceof Blob)) {
      clear(box, errorPanel(res.body && res.body.error));
      return;
    }
    showFile(box, res.body, { alt: `${a.name}的申诉扫描件`, pdfText: '打开扫描件（PDF）', imgClass: 'appeal-scan' });
  });
  return box;
}

function appealCard(a, onDecided) {
  const [text, kind] = STATE_BADGE[a.state] || ['', ''];
  const who = a.account
    ? `${a.account_name || ''}（用户名 ${a.username}）`
    : h('span', { class: 'warn-text', text: '未找到与申诉信息相符的账号（只能驳回）' });
  const card = h('section', { class: 'card', dataset: { appeal: a.id, state: a.state } },
    h('h2', {}, `${a.kind === 'unit' ? '单位申诉' : '个人申诉'}：${a.name} `, badge(text, kind)),
    h('div', { class: 'committee-body' },
      h('div', {}, dl([
        ['申诉编号', h('span', { class: 'mono', text: a.id })],
        [a.kind === 'unit' ? '统一社会信用代码' : '身份证号', h('span', { class: 'mono', text: a.identifier_masked })],
        ['联系方式', a.contact],
        ['申诉理由', a.reason || '—'],
        ['相符账号', who],
        ['提交时间', formatTime(a.created)],
        a.decided ? ['处理时间', formatTime(a.decided)] : null,
        a.decision ? ['审核意见', a.decision] : null,
      ])),
      scanView(a)));
  if (a.state !== 'pending') return card;

  const msgs = messageArea();
  const approve = h('button', { type: 'button', class: 'btn primary', text: '通过', disabled: !a.account,
    onclick: (ev) => runAction(msgs, ev.currentTarget, async () => {
      const res = await post(`/appeals/${enc(a.id)}/decision`, { approve: true });
      if (res.status === 200) onDecided(res.body.appeal, true);
      return res;
    }) });
  const reject = createForm({
    submitText: '驳回',
    fields: [{ name: 'reason', label: '驳回理由', required: true, maxlength: 200, hint: '将发送给申诉人' }],
    async onSubmit(v) {
      const res = await post(`/appeals/${enc(a.id)}/decision`, { approve: false, reason: v.reason });
      if (res.status === 200) onDecided(res.body.appeal, false);
      return res;
    },
  });
  card.append(msgs.el, h('div', { class: 'form-actions' }, approve,
    h('span', { class: 'hint', text: '核对扫描件与申诉信息一致后通过：申诉人将收到设置新密码的一次性链接。' })), reject.el);
  return card;
}

export async function appealsPage({ query, navigate }) {
  const st = query.has('state') ? query.get('state') : 'pending';
  const res = await get('/appeals' + (st ? '?state=' + enc(st) : ''));
  const head = [crumbs(['#/me', '我的主页'], '账号申诉'), pageHeader('账号申诉', '核对申诉人上传的证件扫描件，通过或驳回；结果发送到申诉人的联系方式')];
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const status = h('div', { class: 'form-status', role: 'status', 'aria-live': 'polite', hidden: true });
  const onDecided = (a, approved) => {
    status.textContent = `申诉 ${a.id} 已${approved ? '通过，设置新密码的链接已发送' : '驳回，结果已发送'}给申诉人。`;
    status.hidden = false;
    const old = list.querySelector(`[data-appeal="${a.id}"]`);
    if (old) old.replaceWith(appealCard(a, onDecided));
  };
  const items = res.body.items || [];
  const list = h('div', { dataset: { testid: 'appeals' } }, items.length ? items.map((a) => appealCard(a, onDecided))
    : h('section', { class: 'card' }, h('p', { class: 'muted', text: '没有申诉。' })));
  const pick = h('select', { id: 'appeal-state', onchange: (ev) => navigate('#/appeals?state=' + enc(ev.target.value)) },
    STATES.map(([v, t]) => h('option', { value: v, text: t, selected: v === st })));
  return h('div', {}, head,
    h('div', { class: 'filter-bar' }, h('label', { for: 'appeal-state', text: '状态' }), pick),
    status, list);
}

const MSG_STATE = { kept: ['在发件箱', 'info'], queued: ['待发送', 'warn'], sending: ['发送中', 'warn'], sent: ['已发送', 'ok'], failed: ['发送失败', 'warn'] };

export async function messagesPage() {
  const res = await get('/messages');
  const head = [crumbs(['#/me', '我的主页'], '消息发件箱'),
    pageHeader('消息发件箱', '本节点发出的验证码、申诉结果和进度提醒；未配置发送通道（短信、邮件）的消息保留在这里')];
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const items = res.body.items || [];
  return h('div', {}, head, h('section', { class: 'card' }, items.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'table compact stack', dataset: { testid: 'messages' } },
      h('thead', {}, h('tr', {}, ['时间', '方式', '收件人', '内容', '状态'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, items.map((m) => {
        const [text, kind] = MSG_STATE[m.state] || [m.state, ''];
        return h('tr', { dataset: { id: m.id } },
          h('td', { 'data-label': '时间', text: formatTime(m.created) }),
          h('td', { 'data-label': '方式', text: m.channel === 'email' ? '邮件' : '短信' }),
          h('td', { 'data-label': '收件人' }, h('span', { class: 'mono', text: m.to }), m.username ? h('div', { class: 'muted', translate: 'no', text: `${m.name || ''}（${m.username}）` }) : null),
          // as sent, in the language it went out in: a record, not translated
          h('td', { 'data-label': '内容', translate: 'no' }, h('strong', { text: m.subject }), m.body ? h('div', { class: 'notice-body' }, h('p', { text: m.body })) : null),
          h('td', { 'data-label': '状态' }, badge(text, kind), m.detail ? h('div', { class: 'muted', text: m.detail }) : null));
      }))))
    : h('p', { class: 'muted', text: '发件箱为空。' })));
}
