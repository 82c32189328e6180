// application-parts.js - the pieces of an application shown by more than one page: status
// badges, the key-facts bar, the committee card, sections read-only, attachments, opinions,
// the history, the list table, and the qualification chooser of 新增申请书 and 更改资格.
import { get } from '../api.js';
import { livePage } from '../live.js';
import { ROLE_NAMES } from '../state.js';
import { t, refName } from '../i18n.js';
import { h, clear, dl, badge, formatTime, formatDate, refText, typed } from '../ui.js';
import { formatSize } from './fields.js';

export const STATUS_NAMES = {
  draft: '草稿',
  unit_review: '单位审核中',
  dept_review: '推荐单位审核中',
  committee_review: '评委会形式审查中',
  returned: '已退回',
  formal_passed: '形式审查通过',
  meeting: '会议评审中',
  passed: '评审通过',
  failed: '评审未通过',
  publicized: '公示中',
  approved: '已批准',
  certified: '已发证',
};

const STATUS_KIND = {
  draft: 'muted', returned: 'danger', failed: 'danger',
  passed: 'ok', publicized: 'ok', approved: 'ok', certified: 'ok',
};

export const RETURNED_BY_NAMES = { unit: '基层单位', dept: '推荐单位', committee: '评审委员会' };
export const STAGE_OF_ROLE = { unit_admin: 'unit', dept_admin: 'dept', committee_admin: 'committee' };

export const LEVEL_NAMES = { 1: '员级', 2: '助理级', 3: '中级', 4: '副高级', 5: '正高级' };

// History actions in the platform's words; forward depends on who forwarded.
const ACTION_NAMES = {
  create: '新增申请书', submit: '提交', withdraw: '收回', return: '退回', change_qualification: '更改资格',
  meeting: '提交会议评审', pass: '评审通过', fail: '评审未通过',
};
const FORWARD_NAMES = { unit_admin: '提交推荐单位', dept_admin: '报送评审委员会', committee_admin: '形式审查通过' };

export const statusName = (code, name) => name || STATUS_NAMES[code] || code || '—';
// In the interface language: level names are composed into reference names' text.
export const levelName = (level) => t(LEVEL_NAMES[level] || (level ? `${level}级` : ''));
export const attachmentUrl = (appId, attId) =>
  `/api/v1/applications/${encodeURIComponent(appId)}/attachments/${encodeURIComponent(attId)}`;

// 已退回 in red, with who returned it; other states by kind.
export function statusBadge(status, name, returnedBy) {
  const by = status === 'returned' && RETURNED_BY_NAMES[returnedBy] ? `（${RETURNED_BY_NAMES[returnedBy]}退回）` : '';
  return badge(statusName(status, name) + by, 'status ' + (STATUS_KIND[status] || 'info'), { dataset: { status, testid: 'status' } });
}

export function qualificationText(q, level) {
  if (!q) return '—';
  const lv = levelName(q.level || level);
  return lv ? `${refName(q)}（${lv}）` : refName(q);
}

// ---------- catalogue and the qualification chooser ----------

let catalogCache = null;
export async function loadCatalog() {
  if (catalogCache) return catalogCache;
  const res = await get('/catalog');
  if (res.status !== 200) return null;
  catalogCache = res.body;
  return catalogCache;
}

const PLEASE = (what) => ({ value: '', label: `请选择${what}` });

function specialtyOptions(s) {
  return [PLEASE('专业'), ...(s ? s.specialties || [] : []).map((sp) => ({ value: sp.code, label: refName(sp) }))];
}

function qualificationOptions(s) {
  const qs = s ? [...(s.qualifications || [])].sort((a, b) => a.level - b.level) : [];
  return [PLEASE('资格名称'), ...qs.map((q) => ({ value: q.code, label: qualificationText(q) }))];
}

// The series → specialty and qualification fields of a createForm; current: {series,
// specialty, qualification} codes. Wire them with bindQualification once the form exists.
export function qualificationFields(catalog, current = {}) {
  const series = catalog.series || [];
  const s = series.find((x) => x.code === current.series);
  return [
    { name: 'series', label: '职称系列', type: 'select', required: true, value: current.series || '',
      options: [PLEASE('职称系列'), ...series.map((x) => ({ value: x.code, label: refName(x) }))] },
    { name: 'specialty', label: '专业', type: 'select', required: true, value: current.specialty || '', options: specialtyOptions(s) },
    { name: 'qualification', label: '资格名称', type: 'select', required: true, value: current.qualification || '',
      options: qualificationOptions(s), hint: '括号内为资格的级别' },
  ];
}

export function bindQualification(form, catalog, onChange) {
  const fill = (select, options) => {
    clear(select, options.map((o) => h('option', { value: o.value, text: o.label })));
  };
  form.input('series').addEventListener('change', () => {
    const s = (catalog.series || []).find((x) => x.code === form.input('series').value);
    fill(form.input('specialty'), specialtyOptions(s));
    fill(form.input('qualification'), qualificationOptions(s));
    if (onChange) onChange();
  });
  for (const n of ['specialty', 'qualification']) form.input(n).addEventListener('change', () => onChange && onChange());
}

// ---------- committee ----------

export function windowText(w) {
  if (!w) return h('span', { class: 'muted', text: '评审委员会尚未公布该专业的申报时间' });
  // a window's days are Beijing time: from 00:00 of the first to 23:59:59 of the last
  return h('span', { class: 'window' },
    `${formatDate(w.opens)} 0:00 至 ${formatDate(w.closes)} 23:59（北京时间） `,
    w.open ? badge('申报中', 'ok') : badge('未在申报时间内', 'danger'));
}

// The committee chosen by jurisdiction (GET /jurisdiction or the application's).
export function committeeCard(c, w) {
  return h('div', { class: 'committee-card', dataset: { testid: 'committee', committee: c.id } },
    h('div', { class: 'committee-name' },
      h('strong', {}, refText(c)),
      c.directed ? badge('定向', 'directed', { title: '定向评审：取得的资格限定向使用' }) : null),
    dl([
      ['评审区域', refText(c, 'node_name')],
      ['评审方式', c.directed ? '定向评审（取得的职称限定向使用）' : '常规评审'],
      ['申报时间', windowText(w === undefined ? c.window : w)],
      ['评审费', c.fee !== undefined && c.fee !== null ? `${c.fee} 元` : '—'],
      ['提交次数上限', c.submit_limit ? `${c.submit_limit} 次` : '—'],
      c.paper_rules ? ['纸质材料', c.paper_rules] : null,
      c.address ? ['地址', c.address] : null,
      c.contact || c.phone ? ['联系方式', [c.contact, c.phone].filter(Boolean).join('　')] : null,
    ]));
}

// ---------- the key-facts bar ----------

// Always in view on the application pages. extra: more [label, value] rows; actions: buttons.
export function factsBar(app, { reviewer = false, actions = [] } = {}) {
  const q = app.qualification || {};
  const c = app.committee || {};
  const item = (label, value, testid) => h('div', { class: 'fact', dataset: testid ? { testid } : undefined },
    h('span', { class: 'fact-label', text: label }), h('span', { class: 'fact-value' }, value));
  return h('section', { class: 'facts-bar', 'aria-label': '申请书概要', dataset: { testid: 'facts' } },
    h('div', { class: 'facts' },
      reviewer && app.applicant ? item('申请人', `${app.applicant.name}（${app.applicant.id_number_masked || app.applicant.username}）`) : null,
      item('编号', app.number || '—', 'number'),
      app.verify_code ? item('验证码', h('span', { class: 'code', text: app.verify_code }), 'verify-code') : null,
      item('申报年度', String(app.year), 'year'),
      item('资格名称', qualificationText(q, app.level), 'qualification'),
      item('专业', [refName(q, 'series_name'), refName(app.specialty)].filter(Boolean).join(' · '), 'specialty'),
      item('状态', statusBadge(app.status, app.status_name, app.returned_by), 'status'),
      reviewer && app.unit ? item('工作单位', app.unit.name) : null,
      item('评审委员会', [c.name ? refText(c) : '—', c.directed ? badge('定向', 'directed') : null], 'committee'),
      item('提交次数', `已提交 ${app.submit_count || 0} 次 / 上限 ${app.submit_limit || c.submit_limit || '—'} 次`, 'count'),
      item('申报时间', windowText(app.window), 'window'),
      app.payment ? item('评审费', paymentText(app.payment, reviewer), 'payment') : null,
      ...resultItems(app.results, item)),
    h('div', { class: 'facts-actions' }, actions, formLink(app)));
}

// Where the results stand (会议结果、批文结果): the publicity list, the approval document, the
// certificate, each a link to its public page.
function resultItems(res, item) {
  if (!res) return [];
  const enc = encodeURIComponent;
  const g = res.publicity;
  const w = res.approval;
  const c = res.certificate;
  return [
    g ? item('评审结果公示', h('a', { href: '#/publicity?id=' + enc(g.id), text: `${g.starts} 至 ${g.ends}` }), 'publicity') : null,
    w ? item('批文', h('a', { href: '#/approval?id=' + enc(w.id), text: w.doc_number }), 'approval') : null,
    c ? item('证书编号', [h('a', { class: 'code', href: '#/certificate?number=' + enc(c.number), text: c.number }),
      c.directed ? badge('定向使用', 'directed') : null], 'certificate') : null,
  ];
}

// The fee (缴费) once the formal review passed: amount, status and, while unpaid, the way to
// the payment platform (the committee's node is the merchant; the applicant comes back here).
function paymentText(p, reviewer) {
  const kind = { unpaid: 'warn', paid: 'ok', refunded: '' }[p.status] || '';
  const back = encodeURIComponent(window.location.href);
  return [
    `¥${p.amount_yuan} `, badge(p.status_name, kind),
    p.pay_url && !reviewer
      ? h('a', { class: 'btn small primary pay-link', href: `${p.pay_url}&back=${back}`, dataset: { testid: 'pay-link' },
        text: '去缴费' })
      : null,
  ];
}

// The review form: the test form until the formal review passes, then the official one.
function formLink(app) {
  const official = Boolean(app.verify_code);
  return h('a', {
    class: 'btn', href: `/api/v1/applications/${encodeURIComponent(app.id)}/form.pdf`, download: '',
    dataset: { testid: 'form-link' }, title: '评审表请正反面打印到一张 A4 纸上',
    text: official ? '下载评审表' : '下载评审表（测试表）',
  });
}

// ---------- opinions ----------

const stageName = (o) => RETURNED_BY_NAMES[o.stage] || o.stage || '';

// Opinions on one section. current: those of the round that was returned (shown in red).
export function opinionList(opinions, { currentRound = null, red = false } = {}) {
  if (!opinions || !opinions.length) return null;
  return h('ul', { class: 'opinions' }, opinions.map((o) => {
    const now = red && o.round === currentRound;
    return h('li', { class: 'opinion' + (now ? ' current' : ''), dataset: { testid: 'opinion', stage: o.stage } },
      h('div', { class: 'opinion-head' },
        h('strong', { text: `${stageName(o)}审核意见` }),
        h('span', { class: 'muted', text: [o.author, formatTime(o.updated), currentRound !== null && o.round !== currentRound ? `第 ${o.round} 次提交` : ''].filter(Boolean).join(' · ') })),
      h('p', { class: 'opinion-text', text: o.text }));
  }));
}

// The red banner of a returned application, with the opinions not tied to a section.
export function returnedBanner(app) {
  if (app.status !== 'returned') return null;
  const by = app.returned_by_name || RETURNED_BY_NAMES[app.returned_by] || '审核单位';
  const general = (app.opinions || []).filter((o) => o.section === 'general' && o.round === app.round);
  const sections = (app.sections || []).filter((s) => (s.opinions || []).some((o) => o.round === app.round));
  return h('div', { class: 'returned-banner', role: 'alert', dataset: { testid: 'returned-banner' } },
    h('strong', { class: 'returned-title', text: `本申请书已被${by}退回` }),
    h('p', { text: app.editable
      ? '请根据下列审核意见修改后重新提交。'
      : '申请书已退回申请人修改。' }),
    general.length ? opinionList(general, { currentRound: app.round, red: true }) : null,
    sections.length ? h('p', {}, '有审核意见的栏目：',
      sections.map((s, i) => [i ? '、' : '', h('a', { href: '#section-' + s.name, onclick: jump(s.name), text: s.title })])) : null);
}

export function jump(name) {
  return (ev) => {
    ev.preventDefault();
    const el = document.getElementById('section-' + name);
    if (el) {
      el.scrollIntoView({ behavior: 'smooth', block: 'start' });
      el.classList.add('attention');
      setTimeout(() => el.classList.remove('attention'), 2400);
    }
  };
}

// ---------- sections ----------

// A section's saved values as a read-only list.
export function sectionValues(section) {
  const data = section.data || {};
  return h('dl', { class: 'kv section-values' }, (section.fields || []).map((f) => {
    const v = data[f.name];
    const empty = v === undefined || v === null || v === '';
    return [h('dt', { text: f.label }), h('dd', { class: f.type === 'textarea' ? 'pre' : '', dataset: { field: f.name } },
      // a choice among the options is the portal's text; anything else, the applicant's
      empty ? h('span', { class: 'muted', text: '未填写' }) : f.type === 'select' ? String(v) : typed(String(v)))];
  }));
}

// Whether a section is done: its required fields, and an attachment when required.
export function sectionState(section) {
  if (section.missing) return { done: false, text: `尚未填写：${section.missing}` };
  if (section.attachments_required && !(section.attachments || []).length) return { done: false, text: '须上传证明材料附件' };
  return { done: true, text: '已填写完整' };
}

// The sections as chips that lead to them: done (✓), not yet (○), flagged (!, has opinions).
export function sectionToc(a, flagged) {
  return h('ol', { class: 'toc' }, (a.sections || []).map((s) => {
    const st = sectionState(s);
    const flag = flagged(s);
    return h('li', {}, h('a', {
      href: '#section-' + s.name, onclick: jump(s.name),
      class: 'toc-item' + (st.done ? ' done' : '') + (flag ? ' flagged' : ''),
      title: flag ? '有审核意见' : st.text,
    }, h('span', { class: 'toc-mark', 'aria-hidden': 'true', text: flag ? '!' : st.done ? '✓' : '○' }), s.title,
    flag ? h('span', { class: 'sr-only', text: '（有审核意见）' }) : null));
  }));
}

const TYPE_NAMES = { 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'application/pdf': 'PDF' };

// The attachments of a section: name (opens the file), size, type, time; onDelete(att) adds 删除.
export function attachmentList(app, section, onDelete) {
  const atts = section.attachments || [];
  if (!atts.length) return h('p', { class: 'muted attach-empty', text: section.attachments_required ? '尚未上传附件（本栏目须上传证明材料）。' : '暂无附件。' });
  return h('ul', { class: 'attachments', dataset: { testid: 'attachments' } }, atts.map((a) => h('li', { dataset: { att: a.id } },
    h('span', { class: 'file-icon', 'aria-hidden': 'true', text: TYPE_NAMES[a.type] || '文件' }),
    h('a', { class: 'att-name', href: attachmentUrl(app.id, a.id), target: '_blank', rel: 'noopener', translate: 'no', text: a.name }),
    h('span', { class: 'muted', text: `${formatSize(a.size)} · ${TYPE_NAMES[a.type] || a.type} · ${formatTime(a.uploaded)}` }),
    onDelete ? h('button', { type: 'button', class: 'btn small danger', text: '删除', 'aria-label': `删除附件 ${a.name}`, onclick: (ev) => onDelete(a, ev.currentTarget) }) : null)));
}

// ---------- history ----------

export function historyTable(history) {
  if (!history || !history.length) return h('p', { class: 'muted', text: '暂无办理记录。' });
  const cols = ['时间', '操作人', '角色', '操作', '状态变化'];
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table stack history', dataset: { testid: 'history' } },
    h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, history.map((e) => {
      const action = e.action === 'forward' ? FORWARD_NAMES[e.actor_role] || '提交' : ACTION_NAMES[e.action] || e.action;
      const change = e.from === e.to ? statusName(e.to) + '（不变）'
        : `${e.from ? statusName(e.from) : '—'} → ${statusName(e.to)}`;
      return h('tr', {},
        h('td', { 'data-label': cols[0], text: formatTime(e.at) }),
        h('td', { 'data-label': cols[1], text: e.actor_name || '—' }),
        h('td', { 'data-label': cols[2], text: ROLE_NAMES[e.actor_role] || e.actor_role || '—' }),
        h('td', { 'data-label': cols[3], text: action }),
        h('td', { 'data-label': cols[4], text: change }));
    }))));
}

// The 办理记录 card of a detail page, kept current by parts.
export function historyCard(parts) {
  return h('section', { class: 'card', 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title', text: '办理记录' }),
    parts.part((a) => historyTable(a.history)));
}

// Reload a detail page when its application changes (or the live socket reconnected).
export function followApplication(id, reload) {
  livePage(async (msg) => {
    if (msg.type === 'resync' || msg.id === id) await reload();
  });
}

// ---------- lists ----------

const COLUMNS = {
  applicant: ['申请人', (a) => h('span', {}, a.applicant_name, h('br'), h('span', { class: 'muted mono small', text: a.applicant_id_masked || '' }))],
  year: ['年度', (a) => String(a.year)],
  qualification: ['资格名称', (a) => h('span', {}, refText(a, 'qualification_name'), ' ', h('span', { class: 'level level-' + a.level, text: levelName(a.level) }))],
  specialty: ['专业', (a) => refText(a, 'specialty_name')],
  unit: ['工作单位', (a) => a.unit_name],
  committee: ['评审委员会', (a) => refText(a, 'committee_name')],
  status: ['状态', (a) => statusBadge(a.status, a.status_name, a.returned_by)],
  count: ['提交次数', (a) => `${a.submit_count || 0} / ${a.submit_limit || '—'}`],
  updated: ['更新时间', (a) => formatTime(a.updated)],
};

// A list of applications; action(item) gives the last cell (编辑, 办理, 查看).
export function applicationTable(items, { columns, action, empty }) {
  if (!items.length) return h('p', { class: 'empty', dataset: { testid: 'empty' }, text: empty });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table stack apps', dataset: { testid: 'applications' } },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: COLUMNS[c][0] })), h('th', { scope: 'col', text: '操作' }))),
    h('tbody', {}, items.map((a) => h('tr', { dataset: { id: a.id, status: a.status } },
      columns.map((c) => h('td', { 'data-label': COLUMNS[c][0] }, COLUMNS[c][1](a))),
      h('td', { class: 'row-action', 'data-label': '操作' }, action(a)))))));
}

// A region of a page that is re-drawn from the latest application: parts(fn) gives a box
// drawn by fn(app); update(app) re-draws every box.
export function liveParts() {
  const boxes = [];
  let current = null;
  return {
    part(fn, tag = 'div', attrs = {}) {
      const box = h(tag, attrs);
      const draw = () => clear(box, current ? fn(current) : null);
      boxes.push(draw);
      draw();
      return box;
    },
    set(app) {
      current = app;
    },
    update(app) {
      current = app;
      boxes.forEach((d) => d());
    },
  };
}
