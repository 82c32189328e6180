// committees.js - 评审委员会: the committees of this node (a committee admin: its own) with
// scope, submission windows per specialty, limit, fee, paper materials (报送日期, 报送内容,
// 装订方式), address and contact, and the edit form (PUT /committees/{id}); and the public
// 联系评审委员会目录 of every node's committees.
import { get, put } from '../api.js';
import { state } from '../state.js';
import { refName, listText, labelText } from '../i18n.js';
import { h, clear, createForm, pageHeader, errorPanel, crumbs, dl, badge, formatDate, typed, refText, refData } from '../ui.js';
import { loadCatalog, levelName } from './application-parts.js';

// Today in China Standard Time, as the server compares windows.
function today() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

function windowState(w) {
  const t = today();
  if (w.opens > t) return badge('未开始', 'muted');
  if (w.closes < t) return badge('已截止', 'warn');
  return badge('申报中', 'ok');
}

// "工程系列：副高级、正高级" from scope rows (which may repeat), in the interface language.
function scopeText(scope) {
  const bySeries = new Map();
  for (const s of scope || []) {
    const key = refName(s, 'series_name') || s.series;
    if (!bySeries.has(key)) bySeries.set(key, new Set());
    bySeries.get(key).add(s.level);
  }
  const text = [...bySeries].map(([name, levels]) => labelText(name, listText([...levels].sort().map(levelName)))).join('；');
  return text ? refData(text) : '—';
}

// The specialties a committee sets windows for: those of its scope's series.
function scopeSpecialties(c, catalog) {
  const out = [];
  const seen = new Set();
  for (const s of c.scope || []) {
    const series = (catalog.series || []).find((x) => x.code === s.series);
    for (const sp of (series && series.specialties) || []) {
      if ((s.specialty && s.specialty !== sp.code) || seen.has(sp.code)) continue;
      seen.add(sp.code);
      out.push(sp);
    }
  }
  for (const w of c.windows || []) {
    if (!seen.has(w.specialty)) {
      seen.add(w.specialty);
      out.push({ code: w.specialty, name: w.specialty_name || w.specialty, name_ug: w.specialty_name_ug });
    }
  }
  return out;
}

function windowsTable(c) {
  const ws = c.windows || [];
  if (!ws.length) return h('p', { class: 'muted', text: '尚未设置申报时间。' });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table compact stack windows' },
    h('thead', {}, h('tr', {}, ['专业', '开始日期', '截止日期', '状态'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, ws.map((w) => h('tr', { dataset: { specialty: w.specialty } },
      h('td', { 'data-label': '专业' }, w.specialty_name ? refText(w, 'specialty_name') : w.specialty),
      h('td', { 'data-label': '开始日期', text: formatDate(w.opens) }),
      h('td', { 'data-label': '截止日期', text: formatDate(w.closes) }),
      h('td', { 'data-label': '状态' }, windowState(w)))))));
}

// The windows editor: one row per specialty with two date inputs.
function windowsEditor(c, catalog) {
  const rows = scopeSpecialties(c, catalog).map((sp) => {
    const w = (c.windows || []).find((x) => x.specialty === sp.code) || {};
    const opens = h('input', { type: 'date', value: w.opens || '', 'aria-label': `${refName(sp)} 开始日期` });
    const closes = h('input', { type: 'date', value: w.closes || '', 'aria-label': `${refName(sp)} 截止日期` });
    return { sp, opens, closes };
  });
  const el = h('div', { class: 'table-wrap' }, h('table', { class: 'table compact window-editor' },
    h('thead', {}, h('tr', {}, ['专业', '开始日期', '截止日期'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: { specialty: r.sp.code } },
      h('th', { scope: 'row' }, refText(r.sp)), h('td', {}, r.opens), h('td', {}, r.closes))))));
  return {
    el,
    value: () => rows.filter((r) => r.opens.value || r.closes.value)
      .map((r) => ({ specialty: r.sp.code, opens: r.opens.value, closes: r.closes.value })),
    validate: (ws) => {
      const half = ws.find((w) => !w.opens || !w.closes);
      if (half) return '请同时填写开始日期和截止日期（不设置的专业两项都留空）。';
      const bad = ws.find((w) => w.opens > w.closes);
      if (bad) return '开始日期不能晚于截止日期。';
      return undefined;
    },
  };
}

// 纸质材料: 报送日期, 报送内容, 装订方式.
function paperRows(c) {
  const dates = c.paper_from || c.paper_until ? `${formatDate(c.paper_from)} 至 ${formatDate(c.paper_until)}（北京时间）` : '—';
  return [['纸质材料报送日期', dates], ['报送内容', typed(c.paper_rules || '—')], ['装订方式', typed(c.paper_binding || '—')]];
}

function contactRows(c) {
  return [['地址', typed(c.address || '—')], ['联系人', typed(c.contact || '—')], ['联系电话', typed(c.phone || '—')]];
}

function committeeSection(c, catalog) {
  const body = h('div');
  const box = h('section', { class: 'card committee', id: 'committee-' + c.id, dataset: { committee: c.id } });

  function show(cur, message) {
    clear(box,
      h('div', { class: 'committee-title' },
        h('h2', {}, refText(cur), cur.directed ? badge('定向', 'directed') : null),
        h('div', { class: 'actions' },
          h('a', { class: 'btn small', href: `#/committees/payments?id=${encodeURIComponent(cur.id)}`,
            dataset: { testid: 'payments-link' }, text: '缴费名单' }),
          state.me.role === 'committee_admin' ? h('a', { class: 'btn small', href: `#/committees/publicity?id=${encodeURIComponent(cur.id)}`,
            dataset: { testid: 'publish-link' }, text: '发布公示' }) : null,
          h('button', { type: 'button', class: 'btn small', text: '编辑', onclick: () => edit(cur) }))),
      message ? h('div', { class: 'form-status', role: 'status', text: message }) : null,
      body);
    clear(body, h('div', { class: 'committee-body' }, h('div', {}, dl([
        ['编号', h('span', { class: 'mono', text: cur.id })],
        ['评审区域', refText(cur, 'node_name')],
        ['评审范围', scopeText(cur.scope)],
        ['评审方式', cur.directed ? '定向评审（取得的职称限定向使用）' : '常规评审'],
        ['提交次数上限', `${cur.submit_limit} 次`],
        ['评审费', `${cur.fee} 元`],
        ...paperRows(cur),
        ...contactRows(cur),
      ])),
      h('div', {}, h('h3', { class: 'sub-title', text: '各专业申报时间' }), windowsTable(cur))));
  }

  function edit(cur) {
    const windows = windowsEditor(cur, catalog);
    const form = createForm({
      className: 'two-col',
      submitText: '保存',
      fields: [
        { name: 'name', label: '委员会名称', required: true, maxlength: 60, value: cur.name, wide: true },
        { name: 'name_ug', label: '委员会维吾尔文名称', maxlength: 200, value: cur.name_ug || '', wide: true },
        { name: 'submit_limit', label: '提交次数上限', type: 'number', required: true, min: 1, max: 9, value: String(cur.submit_limit ?? ''),
          hint: '每份申请书最多可提交的次数（1至9次）', validate: (v) => (/^[1-9]$/.test(v) ? undefined : '提交次数上限应为1至9次。') },
        { name: 'fee', label: '评审费（元）', type: 'number', required: true, min: 0, value: String(cur.fee ?? ''),
          validate: (v) => (/^\d{1,6}$/.test(v) ? undefined : '评审费应为不小于0的整数（元）。') },
        { name: 'paper_from', label: '纸质材料报送开始日期', type: 'date', value: cur.paper_from || '' },
        { name: 'paper_until', label: '纸质材料报送截止日期', type: 'date', value: cur.paper_until || '',
          validate: (v, all) => (v && all.paper_from && all.paper_from > v ? '开始日期不能晚于截止日期。' : undefined) },
        { name: 'paper_rules', label: '报送内容', type: 'textarea', rows: 3, maxlength: 2000, value: cur.paper_rules || '', wide: true,
          hint: '需要报送的纸质材料及份数' },
        { name: 'paper_binding', label: '装订方式', maxlength: 200, value: cur.paper_binding || '', wide: true,
          hint: '如：A4纸左侧装订成册，封面注明姓名、单位和申报资格' },
        { name: 'address', label: '地址', maxlength: 100, value: cur.address || '', wide: true },
        { name: 'contact', label: '联系人', maxlength: 30, value: cur.contact || '' },
        { name: 'phone', label: '联系电话', maxlength: 30, value: cur.phone || '' },
        { name: 'windows', label: '各专业申报时间', wide: true, render: () => windows.el, value: windows.value,
          validate: windows.validate, hint: '日期按北京时间计；开始日期至截止日期（含）内可以提交申请书' },
      ],
      actions: [h('button', { type: 'button', class: 'btn', text: '取消', onclick: () => show(cur) })],
      async onSubmit(v) {
        const res = await put('/committees/' + encodeURIComponent(cur.id), {
          name: v.name, name_ug: v.name_ug, submit_limit: Number(v.submit_limit), fee: Number(v.fee), paper_rules: v.paper_rules,
          paper_from: v.paper_from, paper_until: v.paper_until, paper_binding: v.paper_binding,
          address: v.address, contact: v.contact, phone: v.phone, windows: v.windows,
        });
        if (res.status === 200 && res.body.committee) show(res.body.committee, '评审委员会信息已保存。');
        return res;
      },
    });
    clear(box, h('h2', { text: `编辑：${refName(cur)}` }), form.el);
    form.input('name').focus();
  }

  show(c);
  return box;
}

export async function committeesPage() {
  const node = state.node ? state.node.node : '';
  const [res, catalog] = await Promise.all([get('/committees?node=' + encodeURIComponent(node)), loadCatalog()]);
  const admin = state.me.role === 'committee_admin';
  const head = [crumbs(['#/me', '我的主页'], '评审委员会'),
    pageHeader('评审委员会', admin ? '本评审委员会的申报时间、提交次数上限、评审费和纸质材料要求' : `${refName(state.node)}的评审委员会及其申报时间、评审费等`)];
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  let items = res.body.items || [];
  if (admin) {
    const mine = state.me.committee && (state.me.committee.id || state.me.committee);
    items = items.filter((c) => c.id === mine);
    if (!items.length && mine) { // its committee is on another node
      const one = await get('/committees/' + encodeURIComponent(mine));
      if (one.status === 200) items = [one.body.committee];
    }
  }
  return h('div', { class: 'committees' }, head,
    items.length
      ? items.map((c) => committeeSection(c, catalog || { series: [] }))
      : h('section', { class: 'card' }, h('p', { class: 'muted', text: '没有可管理的评审委员会。' })));
}

// ---------- 联系评审委员会目录 (public) ----------

function directoryEntry(c) {
  return h('section', { class: 'card committee', dataset: { committee: c.id } },
    h('h2', {}, refText(c), c.directed ? badge('定向', 'directed') : null),
    h('div', { class: 'committee-body' },
      h('div', {}, dl([
        ['评审区域', refText(c, 'node_name')],
        ['评审范围', scopeText(c.scope)],
        ['评审方式', c.directed ? '定向评审（取得的职称限定向使用）' : '常规评审'],
        ...contactRows(c),
        ...paperRows(c),
        ['评审费', `${c.fee} 元`],
      ])),
      h('div', {}, h('h3', { class: 'sub-title', text: '各专业申报时间' }), windowsTable(c),
        h('p', {}, h('a', { href: '#/notices?committee=' + encodeURIComponent(c.id), text: '本委员会的通知公告 →' })))));
}

export async function directoryPage({ query, navigate }) {
  const node = query.get('node') || '';
  const res = await get('/committees' + (node ? '?node=' + encodeURIComponent(node) : ''));
  const head = pageHeader('联系评审委员会目录', '各评审委员会的地址、联系人、联系电话、申报时间和纸质材料报送要求');
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const nodes = state.nodes || [];
  const pick = h('select', { id: 'directory-node', onchange: (ev) => navigate('#/directory' + (ev.target.value ? '?node=' + encodeURIComponent(ev.target.value) : '')) },
    h('option', { value: '', text: '全部区域' }), nodes.map((n) => h('option', { value: n.id, text: refName(n), selected: n.id === node })));
  const items = res.body.items || [];
  return h('div', { class: 'committees' }, head,
    h('div', { class: 'filter-bar' }, h('label', { for: 'directory-node', text: '评审区域' }), pick),
    h('div', { dataset: { testid: 'directory' } }, items.length ? items.map(directoryEntry)
      : h('section', { class: 'card' }, h('p', { class: 'muted', text: '该区域暂无评审委员会。' }))));
}
