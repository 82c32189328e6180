// payments.js - 缴费名单: who has paid a committee's review fee, refunds, and the list as CSV
// (GET /committees/{id}/payments). For the committee's admin and its node's admin.
import { get, post } from '../api.js';
import { h, pageHeader, crumbs, errorPanel, badge, formatTime, confirmDialog, toast } from '../ui.js';

const enc = encodeURIComponent;
const KIND = { unpaid: 'warn', paid: 'ok', refunded: 'muted' };

function row(o, reload) {
  const refund = o.status === 'paid'
    ? h('button', {
      type: 'button', class: 'btn small', text: '退费',
      onclick: async (ev) => {
        const button = ev.currentTarget;
        const ok = await confirmDialog({ title: '确认退费', body: `向${o.name || '申请人'}退还评审费 ¥${(o.amount / 100).toFixed(2)}？`,
          confirmText: '退费', danger: true });
        if (!ok) return;
        button.disabled = true;
        const r = await post(`/payments/${enc(o.order_id)}/refund`, { reason: '评审委员会办理退费' });
        toast(r.status === 200 ? '已退费。' : ((r.body && r.body.error && r.body.error.message) || '退费失败'));
        reload();
      },
    })
    : null;
  return h('tr', { dataset: { order: o.order_id, status: o.status } },
    h('td', { 'data-label': '申请书编号', class: 'mono', text: o.number }),
    h('td', { 'data-label': '姓名', text: o.name || '—' }),
    h('td', { 'data-label': '工作单位', text: o.unit || '—' }),
    h('td', { 'data-label': '金额', text: `¥${(o.amount / 100).toFixed(2)}` }),
    h('td', { 'data-label': '状态' }, badge(o.status_name, KIND[o.status] || '')),
    h('td', { 'data-label': '缴费时间', text: o.paid ? formatTime(o.paid) : '—' }),
    h('td', { 'data-label': '操作' }, refund));
}

export async function paymentsPage({ query }) {
  const id = query.get('id') || '';
  const box = h('div', { class: 'payments' });
  async function load() {
    const res = await get(`/committees/${enc(id)}/payments`);
    if (res.status !== 200) {
      box.replaceChildren(errorPanel(res.body && res.body.error));
      return;
    }
    const items = res.body.items || [];
    box.replaceChildren(
      h('section', { class: 'card' },
        h('p', { dataset: { testid: 'payments-summary' },
          text: `共 ${items.length} 份订单，已缴费 ${res.body.paid} 份，合计 ¥${(res.body.paid_amount / 100).toFixed(2)}` }),
        h('a', { class: 'btn', href: `/api/v1/committees/${enc(id)}/payments?format=csv`, download: '',
          dataset: { testid: 'payments-csv' }, text: '导出 CSV' })),
      items.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'table compact stack', dataset: { testid: 'payments' } },
          h('thead', {}, h('tr', {}, ['申请书编号', '姓名', '工作单位', '金额', '状态', '缴费时间', '操作']
            .map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', {}, items.map((o) => row(o, load)))))
        : h('p', { class: 'muted', text: '还没有缴费订单：申请书通过形式审查后生成。' }));
  }
  await load();
  return h('div', {}, crumbs(['#/me', '我的主页'], ['#/committees', '评审委员会'], '缴费名单'),
    pageHeader('缴费名单', '通过形式审查的申请书的评审费缴纳情况'), box);
}
