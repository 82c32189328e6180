// applications.js - the applicant's 我的申请书 (list) and 新增申请书: year, series →
// specialty and qualification, the work unit (searched by name or credit code), then the
// committee chosen by jurisdiction, shown before the applicant confirms.
import { get, post } from '../api.js';
import { livePage } from '../live.js';
import { refName } from '../i18n.js';
import { h, clear, createForm, pageHeader, errorPanel, crumbs, stepper, messageArea, runAction, dl } from '../ui.js';
import {
  applicationTable, loadCatalog, qualificationFields, bindQualification, committeeCard, qualificationText,
} from './application-parts.js';

const HOME = ['#/me', '我的主页'];
const MINE = ['#/applications', '我的申请书'];

export async function myApplicationsPage() {
  const list = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    const res = await get('/applications');
    if (res.status !== 200) {
      clear(list, errorPanel(res.body && res.body.error));
      return;
    }
    clear(list, applicationTable(res.body.items || [], {
      columns: ['year', 'qualification', 'specialty', 'status', 'count', 'updated'],
      empty: '您还没有申请书。点击“新增申请书”开始申报。',
      action: (a) => h('a', {
        class: 'btn small' + (a.status === 'draft' || a.status === 'returned' ? ' primary' : ''),
        href: '#/applications/edit?id=' + encodeURIComponent(a.id),
        text: a.status === 'draft' || a.status === 'returned' ? '编辑' : '查看',
      }),
    }));
  };
  await load();
  livePage(load);
  return h('div', {},
    crumbs(HOME, '我的职称', '我的申请书'),
    h('div', { class: 'page-head with-actions' },
      pageHeader('我的申请书', '每人每个年度可申报一份申请书；退回后可修改并重新提交'),
      h('a', { class: 'btn primary', href: '#/applications/new', text: '新增申请书' })),
    h('section', { class: 'card' }, list));
}

// This year in China Standard Time (the server's year for 申报年度).
function thisYear() {
  return new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();
}

// The work unit: a search box (name or credit code) and the matches to pick from.
function unitPicker() {
  let chosen = null;
  const input = h('input', { type: 'search', id: 'unit-q', class: 'unit-q', placeholder: '输入单位名称或统一社会信用代码', 'aria-label': '单位名称或统一社会信用代码', autocomplete: 'off' });
  const results = h('div', { class: 'unit-results', 'aria-live': 'polite' });
  const picked = h('div', { class: 'unit-picked', hidden: true });
  const button = h('button', { type: 'button', class: 'btn', text: '查询' });

  const show = () => {
    picked.hidden = !chosen;
    if (chosen) {
      clear(picked, h('span', { class: 'muted', text: '已选择：' }), h('strong', { text: chosen.name }),
        h('span', { class: 'mono muted', text: `（${chosen.credit_code}）` }));
    }
  };
  const choose = (u) => {
    chosen = u;
    show();
  };

  async function search() {
    const q = input.value.trim();
    if (q.length < 2) {
      clear(results, h('p', { class: 'hint', text: '请输入至少两个字的单位名称，或完整的统一社会信用代码。' }));
      return;
    }
    button.disabled = true;
    clear(results, h('p', { class: 'hint', text: '查询中…' }));
    const res = await get('/units?q=' + encodeURIComponent(/^[0-9a-z]{18}$/i.test(q) ? q.toUpperCase() : q));
    button.disabled = false;
    if (res.status !== 200) {
      clear(results, h('p', { class: 'field-error', text: (res.body && res.body.error && res.body.error.message) || '查询失败，请重试。' }));
      return;
    }
    const items = res.body.items || [];
    if (!items.length) {
      clear(results, h('p', { class: 'hint', text: '未找到匹配的单位。请确认单位名称或统一社会信用代码，或请单位先在本系统注册。' }));
      return;
    }
    clear(results, h('ul', { class: 'unit-list', role: 'radiogroup', 'aria-label': '查询到的单位' }, items.map((u) => {
      const id = 'unit-' + u.id;
      const radio = h('input', { type: 'radio', name: 'unit-choice', id, value: u.credit_code });
      radio.checked = !!chosen && chosen.credit_code === u.credit_code;
      radio.addEventListener('change', () => choose(u));
      return h('li', {}, radio, h('label', { for: id },
        h('span', { class: 'unit-name', text: u.name }), h('span', { class: 'mono muted', text: u.credit_code })));
    })));
    if (items.length === 1) {
      results.querySelector('input').checked = true;
      choose(items[0]);
    }
  }

  button.addEventListener('click', search);
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      search();
    }
  });
  const el = h('div', { class: 'unit-picker', dataset: { testid: 'unit-picker' } },
    h('div', { class: 'search-row' }, input, button), results, picked);
  return { el, value: () => (chosen ? chosen.credit_code : ''), chosen: () => chosen };
}

const STEPS = ['选择资格与工作单位', '确认评审委员会', '填写申请书'];

export async function newApplicationPage({ navigate }) {
  const catalog = await loadCatalog();
  const head = [crumbs(HOME, MINE, '新增申请书'), pageHeader('新增申请书', '评审委员会按属地化原则由工作单位所在区域和所申报的资格确定')];
  if (!catalog) return h('div', {}, head, errorPanel({ message: '职称目录加载失败，请刷新后重试。' }));

  const body = h('div');
  const root = h('div', { class: 'new-app' }, head, body);
  const picker = unitPicker();
  const year = thisYear();

  const form = createForm({
    className: 'two-col',
    submitText: '下一步',
    fields: [
      { name: 'year', label: '申报年度', type: 'select', required: true, value: String(year),
        options: [{ value: String(year), label: `${year}年度` }, { value: String(year + 1), label: `${year + 1}年度` }] },
      ...qualificationFields(catalog),
      { name: 'unit', label: '工作单位', required: true, wide: true, render: () => picker.el, value: picker.value,
        hint: '按单位名称或统一社会信用代码查询并选择您所在的基层单位；评审区域由单位所在地确定' },
    ],
    actions: [h('a', { class: 'btn', href: '#/applications', text: '返回我的申请书' })],
    async onSubmit(v) {
      const q = new URLSearchParams({ unit: v.unit, qualification: v.qualification, specialty: v.specialty });
      const res = await get('/jurisdiction?' + q);
      if (res.status === 200) showConfirm(v, res.body.committee);
      return res;
    },
  });
  bindQualification(form, catalog);

  function showForm() {
    clear(body, stepper(STEPS, 0, '新增申请书步骤'), h('section', { class: 'card' }, h('h2', { text: '选择申报资格与工作单位' }), form.el));
  }

  function showConfirm(v, committee) {
    const series = catalog.series.find((s) => s.code === v.series) || {};
    const q = (series.qualifications || []).find((x) => x.code === v.qualification) || {};
    const sp = (series.specialties || []).find((x) => x.code === v.specialty) || {};
    const unit = picker.chosen() || {};
    const msgs = messageArea();
    const confirm = h('button', { type: 'button', class: 'btn primary large', text: '确认新增' });
    const back = h('button', { type: 'button', class: 'btn large', text: '上一步', onclick: showForm });
    confirm.addEventListener('click', async () => {
      const res = await runAction(msgs, [confirm, back], () => post('/applications',
        { year: Number(v.year), qualification: v.qualification, specialty: v.specialty, unit: v.unit }));
      if (res && res.status === 201 && res.body && res.body.id) navigate('#/applications/edit?id=' + encodeURIComponent(res.body.id));
    });
    clear(body, stepper(STEPS, 1, '新增申请书步骤'),
      h('section', { class: 'card' },
        h('h2', { text: '申报信息' }),
        dl([
          ['申报年度', `${v.year}年度`],
          ['职称系列', refName(series)],
          ['专业', refName(sp)],
          ['资格名称', qualificationText(q)],
          ['工作单位', `${unit.name || ''}（${v.unit}）`],
        ])),
      h('section', { class: 'card' },
        h('h2', { text: '评审委员会' }),
        h('p', { class: 'muted', text: '按属地化原则，您的申请书将由以下评审委员会评审：' }),
        committeeCard(committee),
        committee.window && !committee.window.open
          ? h('p', { class: 'notice warn', text: '当前不在该评审委员会的申报时间内：可以先新增并填写申请书，在申报时间内提交。' }) : null),
      msgs.el,
      h('div', { class: 'form-actions' }, confirm, back));
    confirm.focus();
  }

  showForm();
  return root;
}
