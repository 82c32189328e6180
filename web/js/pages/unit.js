// unit.js - the unit admin's pages: 完善单位信息, 变更单位名称, 推荐单位.
import { get, put, post } from '../api.js';
import { state } from '../state.js';
import { refName } from '../i18n.js';
import { h, clear, createForm, pageHeader, errorPanel, dl, formatTime, refText, typed } from '../ui.js';

export const UNIT_LABELS = {
  address: '单位地址',
  legal_person: '法定代表人',
  contact: '联系人',
  phone: '联系电话',
  industry: '所属行业',
  email: '电子邮箱',
  postcode: '邮政编码',
};

export const missingLabels = (missing) => (missing || []).map((m) => UNIT_LABELS[m] || m);

const INDUSTRIES = ['农、林、牧、渔业', '采矿业', '制造业', '电力、热力、燃气及水生产和供应业', '建筑业',
  '批发和零售业', '交通运输、仓储和邮政业', '信息传输、软件和信息技术服务业', '金融业', '房地产业',
  '科学研究和技术服务业', '水利、环境和公共设施管理业', '教育', '卫生和社会工作', '文化、体育和娱乐业',
  '公共管理、社会保障和社会组织', '其他'];

const back = () => h('a', { class: 'btn', href: '#/me', text: '返回我的主页' });

async function loadUnit() {
  const res = await get('/units/me');
  return res.status === 200 && res.body && res.body.unit ? { unit: res.body.unit } : { error: res.body && res.body.error };
}

function unitHead(u) {
  return dl([
    ['单位全称', typed(u.name)],
    ['单位简称', typed(u.short_name)],
    ['统一社会信用代码', h('span', { class: 'mono', text: u.credit_code })],
    ['所在区域', refText(u, 'node_name')],
  ]);
}

// 完整 / 不完整 with the missing fields by their Chinese names.
function completeness(box, u) {
  const missing = missingLabels(u.missing);
  clear(box,
    h('span', { class: 'badge large ' + (u.complete ? 'ok' : 'warn'), dataset: { testid: 'unit-complete' }, text: u.complete ? '完整' : '不完整' }),
    u.complete
      ? h('span', { text: '单位信息已完整，可以开展申请书审核工作。' })
      : h('span', {}, '单位信息不完整，不能开展审核工作。尚缺：', h('strong', { dataset: { testid: 'unit-missing' }, text: missing.join('、') })));
}

export async function unitInfoPage() {
  const { unit, error } = await loadUnit();
  const head = pageHeader('完善单位信息', '单位信息完整后方可审核、推荐本单位人员的申请书');
  if (!unit) return h('div', {}, head, errorPanel(error));

  const status = h('div', { class: 'completeness', role: 'status', 'aria-live': 'polite' });
  completeness(status, unit);

  const industryList = h('datalist', { id: 'industry-list' }, INDUSTRIES.map((i) => h('option', { value: i })));
  const form = createForm({
    className: 'two-col',
    submitText: '保存',
    fields: [
      { name: 'address', label: UNIT_LABELS.address, required: true, maxlength: 200, value: unit.address || '', wide: true },
      { name: 'legal_person', label: UNIT_LABELS.legal_person, required: true, maxlength: 50, value: unit.legal_person || '' },
      { name: 'contact', label: UNIT_LABELS.contact, required: true, maxlength: 50, value: unit.contact || '' },
      { name: 'phone', label: UNIT_LABELS.phone, type: 'tel', required: true, maxlength: 20, value: unit.phone || '' },
      { name: 'industry', label: UNIT_LABELS.industry, required: true, maxlength: 50, value: unit.industry || '', hint: '可从列表中选择或直接填写' },
      { name: 'email', label: UNIT_LABELS.email, type: 'email', maxlength: 100, value: unit.email || '' },
      { name: 'postcode', label: UNIT_LABELS.postcode, inputmode: 'numeric', maxlength: 6, value: unit.postcode || '' },
    ],
    actions: [back()],
    async onSubmit(v) {
      const res = await put('/units/me', v);
      if (res.status === 200 && res.body.unit) {
        completeness(status, res.body.unit);
        form.setStatus('单位信息已保存。');
      }
      return res;
    },
  });
  form.input('industry').setAttribute('list', 'industry-list');

  return h('div', {}, head,
    h('section', { class: 'card' }, unitHead(unit), status),
    h('section', { class: 'card' }, h('h2', { text: '单位信息' }), form.el, industryList));
}

export async function unitRenamePage() {
  const { unit, error } = await loadUnit();
  const head = pageHeader('变更单位名称', '单位更名后，请及时变更单位全称和简称');
  if (!unit) return h('div', {}, head, errorPanel(error));

  const current = h('div');
  const history = h('div');
  const show = (u) => {
    clear(current, unitHead(u));
    const names = u.names || [];
    clear(history, names.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['单位全称', '单位简称', '变更时间'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, names.map((n) => h('tr', {},
          h('td', { text: n.name }), h('td', { text: n.short_name || '—' }), h('td', { text: formatTime(n.changed_at) }))))))
      : h('p', { class: 'muted', text: '暂无名称变更记录。' }));
  };
  show(unit);

  const form = createForm({
    submitText: '确认变更',
    fields: [
      { name: 'name', label: '新单位全称', required: true, maxlength: 100, value: unit.name },
      { name: 'short_name', label: '新单位简称', required: true, maxlength: 50, value: unit.short_name },
    ],
    actions: [back()],
    async onSubmit(v) {
      if (v.name === unit.name && v.short_name === unit.short_name) {
        form.setAlert('新名称与当前名称相同，无需变更。');
        return undefined;
      }
      const res = await post('/units/me/rename', v);
      if (res.status === 200 && res.body.unit) {
        Object.assign(unit, res.body.unit);
        show(unit);
        form.setStatus('单位名称已变更。');
      }
      return res;
    },
  });

  return h('div', { class: 'narrow wide-ok' }, head,
    h('section', { class: 'card' }, h('h2', { text: '当前名称' }), current),
    h('section', { class: 'card' }, h('h2', { text: '变更名称' }), form.el),
    h('section', { class: 'card' }, h('h2', { text: '名称变更记录' }), history));
}

const MAX_RECOMMENDERS = 2;

export async function recommendersPage() {
  const { unit, error } = await loadUnit();
  const head = pageHeader('推荐单位', '选择本单位申请书的推荐单位（主管单位），最多两个');
  if (!unit) return h('div', {}, head, errorPanel(error));

  let chosen = (unit.recommenders || []).map((d) => ({ ...d }));
  const nodes = state.nodes.length ? state.nodes : [{ ...state.node, id: state.node.node }];

  const list = h('ul', { class: 'chosen-list', 'aria-live': 'polite', dataset: { testid: 'recommenders' } });
  const regionSel = h('select', { id: 'rec-region' }, nodes.map((n) => h('option', { value: n.id, text: refName(n) })));
  regionSel.value = unit.node && nodes.some((n) => n.id === unit.node) ? unit.node : nodes[0].id;
  const deptSel = h('select', { id: 'rec-dept', disabled: true }, h('option', { value: '', text: '加载中…' }));
  const addBtn = h('button', { type: 'button', class: 'btn', text: '添加', disabled: true });
  let depts = [];

  function refreshList() {
    clear(list, chosen.length
      ? chosen.map((d, i) => h('li', {},
        h('span', {}, h('strong', {}, refText(d)), h('span', { class: 'muted', translate: 'no', text: `（${refName(d, 'node_name') || d.node}）` })),
        h('button', {
          type: 'button', class: 'btn small danger', text: '移除', 'aria-label': `移除 ${refName(d)}`,
          onclick: () => { chosen.splice(i, 1); refreshList(); },
        })))
      : h('li', { class: 'muted', text: '尚未选择推荐单位。' }));
    updateAdd();
  }

  function updateAdd() {
    const full = chosen.length >= MAX_RECOMMENDERS;
    addBtn.disabled = full || !deptSel.value || chosen.some((d) => d.id === deptSel.value);
    addBtn.title = full ? `最多选择${MAX_RECOMMENDERS}个推荐单位` : '';
  }

  async function loadDepts() {
    deptSel.disabled = true;
    clear(deptSel, h('option', { value: '', text: '加载中…' }));
    const node = regionSel.value;
    const res = await get('/depts?node=' + encodeURIComponent(node));
    if (node !== regionSel.value) return; // the region changed meanwhile
    depts = res.status === 200 && res.body && Array.isArray(res.body.items) ? res.body.items : [];
    clear(deptSel, depts.length
      ? [h('option', { value: '', text: '请选择推荐单位' }), depts.map((d) => h('option', { value: d.id, text: refName(d) }))]
      : h('option', { value: '', text: res.status === 200 ? '该区域暂无推荐单位' : '推荐单位加载失败' }));
    deptSel.disabled = !depts.length;
    updateAdd();
  }

  regionSel.addEventListener('change', loadDepts);
  deptSel.addEventListener('change', updateAdd);
  addBtn.addEventListener('click', () => {
    const d = depts.find((x) => x.id === deptSel.value);
    if (!d || chosen.length >= MAX_RECOMMENDERS) return;
    const region = nodes.find((n) => n.id === regionSel.value);
    chosen.push({ ...d, node: d.node || regionSel.value, node_name: d.node_name || (region && region.name),
      node_name_ug: d.node_name_ug || (region && region.name_ug) });
    deptSel.value = '';
    refreshList();
  });

  const picker = h('div', { class: 'picker' },
    h('div', { class: 'picker-row' },
      h('div', { class: 'field' }, h('label', { for: 'rec-region', text: '区域' }), regionSel),
      h('div', { class: 'field grow' }, h('label', { for: 'rec-dept', text: '推荐单位' }), deptSel),
      h('div', { class: 'field' }, h('span', { class: 'label-spacer', 'aria-hidden': 'true' }), addBtn)));

  const form = createForm({
    submitText: '保存推荐单位',
    fields: [{
      name: 'depts', label: `已选推荐单位（最多${MAX_RECOMMENDERS}个）`,
      render: () => list, value: () => chosen.map((d) => d.id),
    }],
    actions: [back()],
    async onSubmit(v) {
      const res = await put('/units/me/recommenders', { depts: v.depts });
      if (res.status === 200 && res.body.unit) {
        chosen = (res.body.unit.recommenders || []).map((d) => ({ ...d }));
        refreshList();
        form.setStatus('推荐单位已保存。');
        setTimeout(updateAdd); // after the form has restored its buttons
      }
      return res;
    },
  });
  form.el.insertBefore(picker, form.row('depts'));
  refreshList();
  loadDepts();

  return h('div', {}, head,
    h('section', { class: 'card' }, h('p', { class: 'muted', text: '先选择区域（自治区或地州），再选择该区域的推荐单位并添加；可添加一至两个，调整后点击“保存推荐单位”生效。' }), form.el));
}
