// transfer.js - 修改评审区域 on 我的主页: an applicant moves the review region (POST
// /me/region) and follows the transfer (GET /transfers/{id}) until it is done or undone.
import { get, post } from '../api.js';
import { state } from '../state.js';
import { refName } from '../i18n.js';
import { nodeUrl } from '../region.js';
import { h, clear, createForm, confirmDialog } from '../ui.js';

const KEY = 'zc-transfer';  // the transfer this browser follows, across reloads
const POLL_MS = 1000;
const STEPS = [['offered', '已提出申请'], ['accepted', '新的评审区域已接收账号资料'], ['done', '变更完成']];

function nodeName(id) {
  const n = state.nodes.find((x) => x.id === id);
  return n ? refName(n) : id;
}

// The transfer's progress: the steps so far, and what to do next once it has ended.
function progress(t) {
  const at = t.status === 'rolled_back' ? -1 : STEPS.findIndex(([s]) => s === t.status);
  const ended = t.status === 'done';
  const list = h('ol', { class: 'stepper', 'aria-label': '变更进度' },
    STEPS.map(([, label], i) => h('li', {
      class: i < at || ended ? 'done' : i === at ? 'current' : '', 'aria-current': i === at ? 'step' : null, text: label,
    })));
  let note;
  if (t.status === 'done') {
    const target = state.nodes.find((n) => n.id === t.to);
    note = h('p', { class: 'notice ok', role: 'status' }, `评审区域已变更为${t.to_name || nodeName(t.to)}。今后请在该地区网站办理，`,
      target ? h('a', { href: nodeUrl(target, '#/me'), text: `前往${t.to_name || nodeName(t.to)}网站` }) : null,
      '（在本网站仍可登录）。');
  } else if (t.status === 'rolled_back') {
    note = h('p', { class: 'notice warn', role: 'status',
      text: `${t.to_name || nodeName(t.to)}未能及时接收，本次变更已撤销，评审区域仍为${t.from_name || nodeName(t.from)}。可稍后重新申请。` });
  } else {
    note = h('p', { class: 'muted', role: 'status', text: '正在办理，请稍候。变更完成前个人资料暂不能修改。' });
  }
  return h('div', { class: 'transfer-progress', dataset: { testid: 'transfer', status: t.status } },
    h('p', {}, `从 ${t.from_name || nodeName(t.from)} 转到 ${t.to_name || nodeName(t.to)}`), list, note);
}

// Follow transfer id in box until it ends.
function follow(box, id, onEnd) {
  const tick = async () => {
    if (!box.isConnected) return; // the page was left
    const res = await get('/transfers/' + encodeURIComponent(id));
    if (res.status !== 200) {
      sessionStorage.removeItem(KEY);
      return;
    }
    const t = res.body.transfer;
    clear(box, progress(t));
    if (t.status === 'done' || t.status === 'rolled_back') {
      sessionStorage.removeItem(KEY);
      onEnd(t);
    } else {
      setTimeout(tick, POLL_MS);
    }
  };
  tick();
}

export function regionPanel(account, onDone) {
  const box = h('div', { class: 'transfer-box' });
  const others = state.nodes.filter((n) => n.id !== account.home);
  const form = createForm({
    submitText: '申请变更评审区域',
    fields: [{
      name: 'node', label: '新的评审区域', type: 'select', required: true,
      options: [{ value: '', label: '请选择' }, ...others.map((n) => ({ value: n.id, label: refName(n) }))],
      hint: '工作单位在哪职称就在哪评审：工作单位所在地变化时请修改评审区域，可从自治区直接转到其他地州。',
      validate: (v) => (v ? undefined : '请选择新的评审区域'),
    }],
    onSubmit: async ({ node }) => {
      const ok = await confirmDialog({
        title: '确认修改评审区域',
        body: `评审区域将从${account.home_name || nodeName(account.home)}变更为${nodeName(node)}。变更完成后账号资料和未提交的申请书转到新的评审区域，请在该地区网站办理。`,
        confirmText: '确认变更',
      });
      if (!ok) return undefined;
      const res = await post('/me/region', { node });
      if (res.status === 202) {
        sessionStorage.setItem(KEY, res.body.transfer.id);
        follow(box, res.body.transfer.id, onDone);
      }
      return res;
    },
  });
  const pending = sessionStorage.getItem(KEY);
  if (pending) follow(box, pending, onDone);
  return h('section', { class: 'card', 'aria-labelledby': 'region-title', dataset: { testid: 'region-panel' } },
    h('h2', { id: 'region-title', text: '修改评审区域' }),
    h('p', {}, '当前评审区域：', h('strong', { text: account.home_name || nodeName(account.home) })),
    others.length ? form.el : h('p', { class: 'muted', text: '本平台暂无其他评审区域。' }),
    box);
}
