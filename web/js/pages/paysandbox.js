// paysandbox.js - the sandbox payment gateway's page (非税缴费，沙箱): it plays the non-tax
// payment platform for the demo and the tests. The applicant arrives from 去缴费 with the
// order (and the page to come back to); paying makes the gateway send the committee's node
// a signed notification, which marks the order paid.
import { get, post } from '../api.js';
import { state } from '../state.js';
import { h, pageHeader, dl, errorPanel, messageArea } from '../ui.js';

const enc = encodeURIComponent;

// Back only to a page of one of the federation's portals (never an open redirect).
function backLink(back) {
  const portals = [window.location.origin, ...state.nodes.map((n) => n.url).filter(Boolean)];
  const ok = back && portals.some((u) => back === u || back.startsWith(u + '/'));
  return ok ? h('a', { class: 'btn', href: back, dataset: { testid: 'pay-back' }, text: '返回申请书' }) : null;
}

function orderCard(o) {
  return h('section', { class: 'card', dataset: { testid: 'pay-order' } },
    dl([
      ['收款单位', `${o.committee || ''}（${o.merchant || ''}）`],
      ['缴费项目', '职称评审费'],
      ['申请书编号', h('span', { class: 'code', text: o.number })],
      ['订单号', h('span', { class: 'code', text: o.order_id })],
      ['金额', h('strong', { class: 'amount', text: `¥${(o.amount / 100).toFixed(2)}` })],
    ]));
}

export async function paySandboxPage({ query }) {
  const order = query.get('order') || '';
  const back = query.get('back') || '';
  const head = pageHeader('非税缴费（沙箱）', '演示用支付平台：不发生真实扣款，支付结果以签名通知告知评审委员会所在网站');
  const res = await get('/sandbox/orders/' + enc(order));
  if (res.status !== 200) return h('div', { class: 'narrow' }, head, errorPanel(res.body && res.body.error));
  const o = res.body;
  const msg = messageArea();
  const done = h('div', { 'aria-live': 'polite' });
  function showPaid(txn) {
    done.replaceChildren(h('div', { class: 'card ok', dataset: { testid: 'pay-done' } },
      h('h2', { text: '支付成功' }),
      txn ? h('p', {}, '交易号：', h('span', { class: 'code', text: txn })) : null,
      backLink(back)));
  }
  const button = h('button', {
    type: 'button', class: 'btn primary', dataset: { testid: 'pay-confirm' }, text: '确认支付',
    onclick: async () => {
      button.disabled = true;
      msg.clear();
      const r = await post(`/sandbox/orders/${enc(order)}/pay`, {});
      if (r.status === 200) {
        button.remove();
        showPaid(r.body.txn);
      } else {
        button.disabled = false;
        msg.showError(r.body && r.body.error);
      }
    },
  });
  if (o.status !== 'unpaid') showPaid(o.txn);
  return h('div', { class: 'narrow' }, head, orderCard(o), msg.el,
    o.status === 'unpaid' ? h('div', { class: 'actions' }, button) : null, done);
}
