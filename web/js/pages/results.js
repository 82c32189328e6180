// results.js - after the meeting review: 评审结果 (public: the publicity lists 公示 and the
// approval documents 批文 of every node), one list, 证书查询 (anyone verifies a certificate
// number), and the two desks that make them: the committee's 发布公示 and the node
// admin's 印发批文 / 颁发证书.
import { get, post } from '../api.js';
import { state } from '../state.js';
import { refName } from '../i18n.js';
import { h, pageHeader, crumbs, errorPanel, badge, dl, formatDate, createForm, messageArea, confirmDialog } from '../ui.js';
import { statusBadge } from './application-parts.js';

const enc = encodeURIComponent;
const PERIOD = { running: ['公示中', 'ok'], ended: ['公示期满', 'muted'], upcoming: ['未开始', 'info'] };

// Beijing time, as the server keeps dates.
function today(offset = 0) {
  return new Date(Date.now() + 8 * 3600 * 1000 + offset * 86400 * 1000).toISOString().slice(0, 10);
}

function periodBadge(g) {
  const [text, kind] = PERIOD[g.period] || ['', ''];
  return badge(text, kind);
}

function table(head, rows, testid) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table compact stack', dataset: { testid } },
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows)));
}

// The people on a list, as the paper list prints them.
function itemsTable(items, extra = () => []) {
  return table(['申请书编号', '姓名', '工作单位', '资格名称', ...extra(null)],
    items.map((i) => h('tr', { dataset: { application: i.application } },
      h('td', { 'data-label': '申请书编号', class: 'mono', text: i.number }),
      h('td', { 'data-label': '姓名', text: i.name }),
      h('td', { 'data-label': '工作单位', text: i.unit }),
      h('td', { 'data-label': '资格名称' }, i.qualification, i.directed ? badge('定向使用', 'directed') : null),
      ...extra(i))), 'result-items');
}

// ---------- public pages ----------

export async function resultsPage() {
  const [g, w] = await Promise.all([get('/publicity'), get('/approvals')]);
  if (g.status !== 200 || w.status !== 200) return h('div', {}, errorPanel((g.body || w.body || {}).error));
  const publicity = (g.body.items || []).map((x) => h('tr', {},
    h('td', { 'data-label': '公示' }, h('a', { href: '#/publicity?id=' + enc(x.id), translate: 'no', text: x.title })),
    h('td', { 'data-label': '评审委员会', text: `${refName(x, 'committee_name') || x.committee}（${refName(x, 'node_name')}）` }),
    h('td', { 'data-label': '公示期', text: `${formatDate(x.starts)} 至 ${formatDate(x.ends)}` }),
    h('td', { 'data-label': '人数', text: String(x.count) }),
    h('td', { 'data-label': '状态' }, periodBadge(x))));
  const approvals = (w.body.items || []).map((x) => h('tr', {},
    h('td', { 'data-label': '批文' }, h('a', { href: '#/approval?id=' + enc(x.id), translate: 'no', text: x.title })),
    h('td', { 'data-label': '文号', translate: 'no', text: x.doc_number }), // as the document prints it
    h('td', { 'data-label': '印发单位', text: refName(x, 'node_name') }),
    h('td', { 'data-label': '日期', text: formatDate(x.doc_date) }),
    h('td', { 'data-label': '人数', text: String(x.count) })));
  return h('div', {},
    pageHeader('评审结果', '各评审委员会的评审结果公示和人社部门印发的批文（全区各节点同步）'),
    h('section', { class: 'card' }, h('h2', { text: '评审结果公示' }),
      publicity.length ? table(['公示', '评审委员会', '公示期', '人数', '状态'], publicity, 'publicity-list')
        : h('p', { class: 'muted', text: '暂无公示。' })),
    h('section', { class: 'card' }, h('h2', { text: '批文' }),
      approvals.length ? table(['批文', '文号', '印发单位', '日期', '人数'], approvals, 'approval-list')
        : h('p', { class: 'muted', text: '暂无批文。' })),
    h('p', {}, h('a', { href: '#/certificate', text: '证书查询 →' })));
}

export async function publicityPage({ query }) {
  const res = await get('/publicity/' + enc(query.get('id') || ''));
  const head = crumbs(['#/results', '评审结果'], '公示');
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const g = res.body.publicity;
  return h('div', {}, head, pageHeader(g.title, `${refName(g, 'committee_name') || g.committee}（${refName(g, 'node_name')}）`),
    h('section', { class: 'card', dataset: { testid: 'publicity' } },
      dl([['公示期', [`${formatDate(g.starts)} 至 ${formatDate(g.ends)}（北京时间） `, periodBadge(g)]], ['人数', `${g.count} 人`]]),
      h('p', { class: 'hint', text: '公示期内，对公示人员有异议的，可向评审委员会反映。' }),
      itemsTable(g.items)));
}

export async function approvalPage({ query }) {
  const id = query.get('id') || '';
  const res = await get('/approvals/' + enc(id));
  const head = crumbs(['#/results', '评审结果'], '批文');
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const w = res.body.approval;
  const msgs = messageArea();
  const mayCertify = state.me && state.me.role === 'node_admin' && state.node && state.node.node === w.node && w.certified < w.count;
  const certify = mayCertify ? h('button', {
    type: 'button', class: 'btn primary', dataset: { testid: 'certify' }, text: '颁发证书',
    onclick: async (ev) => {
      const button = ev.currentTarget;
      if (!(await confirmDialog({ title: '确认颁发证书', body: `为批文中尚未发证的 ${w.count - w.certified} 人颁发证书？`, confirmText: '颁发' }))) return;
      button.disabled = true;
      const r = await post(`/approvals/${enc(id)}/certificates`, {});
      if (r.status === 200) window.dispatchEvent(new HashChangeEvent('hashchange'));
      else msgs.showError(r.body && r.body.error);
    },
  }) : null;
  return h('div', {}, head, pageHeader(w.title, `${w.doc_number} · ${refName(w, 'node_name')}`),
    h('section', { class: 'card', dataset: { testid: 'approval' } },
      dl([['文号', w.doc_number], ['日期', formatDate(w.doc_date)], ['印发单位', refName(w, 'node_name')], ['人数', `${w.count} 人（已发证 ${w.certified} 人）`]]),
      msgs.el, certify,
      itemsTable(w.items, (i) => (i ? [h('td', { 'data-label': '证书编号' },
        i.certificate ? h('a', { class: 'mono', href: '#/certificate?number=' + enc(i.certificate), text: i.certificate }) : '—')] : ['证书编号']))));
}

function certificateCard(c) {
  return h('section', { class: 'card verify-result', dataset: { testid: 'certificate' }, 'aria-live': 'polite' },
    h('h2', { text: '查询结果：证书有效' }),
    dl([
      ['证书编号', h('span', { class: 'code', text: c.number })],
      ['姓名', c.name],
      ['工作单位', c.unit],
      ['资格名称', [c.qualification, c.directed ? badge('定向使用', 'directed') : null]],
      ['批文', `${c.doc_title || ''}（${c.doc_number || ''}）`],
      ['发证单位', `${refName(c, 'node_name')}（${c.node}）`],
      ['发证时间', formatDate(c.issued)],
    ]),
    c.directed ? h('p', { class: 'hint', text: '定向评审取得的职称限在定向地区使用。' }) : null,
    h('figure', { class: 'cert-qr' },
      h('img', { src: `/api/v1/certificates/${enc(c.number)}/qr.png`, alt: `证书 ${c.number} 的二维码`, width: 148, height: 148 }),
      h('figcaption', { class: 'hint', text: '手机扫码即可打开发证节点的证书查询页面核验' })));
}

export async function certificatePage({ query }) {
  const out = h('div');
  async function check(number) {
    out.replaceChildren();
    const res = await get('/certificates/' + enc(number.trim()));
    if (res.status === 200) out.append(certificateCard(res.body.certificate));
    return res;
  }
  const form = createForm({
    submitText: '查询',
    fields: [{ name: 'number', label: '证书编号', required: true, value: query.get('number') || '', hint: '如 650000-2026-000001' }],
    onSubmit: (v) => check(v.number),
  });
  if (query.get('number')) {
    const res = await check(query.get('number'));
    if (res.status !== 200) out.append(errorPanel(res.body && res.body.error));
  }
  return h('div', { class: 'narrow' }, pageHeader('证书查询', '输入证书编号，核验职称证书的真伪（全区任一节点均可查询）'),
    h('div', { class: 'card' }, form.el), out);
}

// ---------- the desks ----------

// Checkboxes over applications (rows from GET /applications), all ticked.
function picker(apps) {
  const boxes = apps.map((a) => ({ a, box: h('input', { type: 'checkbox', checked: true, 'aria-label': `选择 ${a.applicant_name || ''}` }) }));
  const el = apps.length ? table(['选择', '申请人', '资格名称', '工作单位', '状态'], boxes.map(({ a, box }) => h('tr', { dataset: { id: a.id } },
    h('td', { 'data-label': '选择' }, box),
    h('td', { 'data-label': '申请人', text: a.applicant_name || '' }),
    h('td', { 'data-label': '资格名称', text: a.qualification_name || '' }),
    h('td', { 'data-label': '工作单位', text: a.unit_name || '' }),
    h('td', { 'data-label': '状态' }, statusBadge(a.status, a.status_name)))), 'pick')
    : h('p', { class: 'muted', text: '没有可以列入的申请书。' });
  return { el, value: () => boxes.filter((b) => b.box.checked).map((b) => b.a.id) };
}

export async function publishPage({ query }) {
  const cid = query.get('id') || '';
  const res = await get('/applications?view=all&status=passed');
  const head = [crumbs(['#/me', '我的主页'], ['#/committees', '评审委员会'], '发布公示'),
    pageHeader('发布评审结果公示', '评审通过的申请书列入公示，公示期内状态为“公示中”')];
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const pick = picker(res.body.items || []);
  const form = createForm({
    className: 'two-col',
    submitText: '发布公示',
    fields: [
      { name: 'title', label: '公示标题', required: true, maxlength: 100, wide: true, value: `${today().slice(0, 4)}年度职称评审结果公示` },
      { name: 'starts', label: '公示开始日期', type: 'date', required: true, value: today() },
      { name: 'ends', label: '公示截止日期', type: 'date', required: true, value: today(6), hint: '公示期一般不少于5个工作日（北京时间）' },
      { name: 'applications', label: '公示人员', wide: true, render: () => pick.el, value: pick.value,
        validate: (v) => (v.length ? undefined : '请至少选择一份申请书。') },
    ],
    async onSubmit(v) {
      const r = await post(`/committees/${enc(cid)}/publicity`, v);
      if (r.status === 201) window.location.hash = '#/publicity?id=' + enc(r.body.publicity.id);
      return r;
    },
  });
  return h('div', {}, head, h('section', { class: 'card' }, form.el));
}

export async function approvalNewPage() {
  const res = await get('/applications?view=all&status=publicized');
  const head = [crumbs(['#/me', '我的主页'], '印发批文'),
    pageHeader('印发批文', '公示期满的人员列入批文；印发后可为其颁发证书')];
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const pick = picker(res.body.items || []);
  const form = createForm({
    className: 'two-col',
    submitText: '印发批文',
    fields: [
      { name: 'doc_number', label: '文号', required: true, maxlength: 60, placeholder: '如 新人社职字〔2026〕12号' },
      { name: 'doc_date', label: '日期', type: 'date', required: true, value: today() },
      { name: 'title', label: '标题', required: true, maxlength: 100, wide: true, value: '关于具备专业技术职务任职资格的通知' },
      { name: 'applications', label: '批准人员', wide: true, render: () => pick.el, value: pick.value,
        validate: (v) => (v.length ? undefined : '请至少选择一份申请书。') },
    ],
    async onSubmit(v) {
      const r = await post('/approvals', v);
      if (r.status === 201) window.location.hash = '#/approval?id=' + enc(r.body.approval.id);
      return r;
    },
  });
  return h('div', {}, head, h('section', { class: 'card' }, form.el));
}
