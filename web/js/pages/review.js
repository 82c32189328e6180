// review.js - the reviewers' pages (unit, dept and committee admins): 申请书审核 (my queue),
// 申请书查询 (everything that reached me, read-only, by status) and 办理: the application
// read-only with an opinion per section, then the decisions the server lists in `actions`.
import { get, put, post } from '../api.js';
import { state } from '../state.js';
import { t, refName } from '../i18n.js';
import { livePage, ownAction } from '../live.js';
import {
  h, clear, createForm, pageHeader, errorPanel, crumbs, messageArea, confirmDialog, badge,
} from '../ui.js';
import {
  STATUS_NAMES, STAGE_OF_ROLE, applicationTable, factsBar, returnedBanner, opinionList, sectionValues,
  attachmentList, historyCard, followApplication, liveParts, sectionToc,
} from './application-parts.js';

const HOME = ['#/me', '我的主页'];
const QUEUE = ['#/review/queue', '申请书审核'];
const ALL = ['#/review/all', '申请书查询'];
const enc = encodeURIComponent;
const handleHref = (a) => '#/review/handle?id=' + enc(a.id);

const QUEUE_NOTE = {
  unit_admin: '本单位人员提交、等待本单位审核推荐的申请书',
  dept_admin: '基层单位推荐、等待本推荐单位审核的申请书',
  committee_admin: '报送本评审委员会、等待形式审查或会议评审的申请书',
};

async function listInto(box, path, opts) {
  const res = await get(path);
  if (res.status !== 200) clear(box, errorPanel(res.body && res.body.error));
  else clear(box, applicationTable(res.body.items || [], opts));
  return res;
}

export async function reviewQueuePage() {
  const box = h('div', { 'aria-live': 'polite' });
  const opts = {
    columns: ['applicant', 'year', 'qualification', 'specialty', 'unit', 'status', 'count', 'updated'],
    empty: '暂无待审核的申请书。',
    action: (a) => h('a', { class: 'btn small primary', href: handleHref(a), text: '办理' }),
  };
  const load = () => listInto(box, '/applications?view=queue', opts);
  await load();
  livePage(load);
  return h('div', {},
    crumbs(HOME, '申请书审核'),
    pageHeader('申请书审核', QUEUE_NOTE[state.me.role] || '等待我办理的申请书'),
    h('section', { class: 'card' }, box));
}

export async function reviewAllPage({ query }) {
  const box = h('div', { 'aria-live': 'polite' });
  const filter = h('select', { id: 'status-filter' },
    h('option', { value: '', text: '全部状态' }),
    Object.entries(STATUS_NAMES).map(([v, t]) => h('option', { value: v, text: t })));
  filter.value = STATUS_NAMES[query.get('status')] ? query.get('status') : '';
  const opts = {
    columns: ['applicant', 'year', 'qualification', 'specialty', 'unit', 'status', 'count', 'updated'],
    empty: '没有符合条件的申请书。',
    action: (a) => h('a', { class: 'btn small', href: handleHref(a), text: '查看' }),
  };
  const load = () => listInto(box, '/applications?view=all' + (filter.value ? '&status=' + enc(filter.value) : ''), opts);
  filter.addEventListener('change', () => {
    // keep the filter in the address without re-running the router
    history.replaceState(null, '', '#/review/all' + (filter.value ? '?status=' + enc(filter.value) : ''));
    load();
  });
  await load();
  livePage(load);
  return h('div', {},
    crumbs(HOME, '申请书查询'),
    pageHeader('申请书查询', '经本单位（部门）办理过的全部申请书，只读'),
    h('section', { class: 'card' },
      h('div', { class: 'filters' }, h('label', { for: 'status-filter', text: '状态' }), filter),
      box));
}

// Buttons of the decisions other than the unit's forward; the server's label otherwise.
const DECISIONS = {
  return: ['退回', '退回申请人修改'],
  forward: { dept_admin: ['提交', '报送评审委员会'], committee_admin: ['形式审查通过', '形式审查通过，进入会议评审环节'] },
  meeting: ['提交会议评审', '提交评审委员会会议评审'],
  pass: ['评审通过', '会议评审结果：通过'],
  fail: ['评审未通过', '会议评审结果：未通过'],
};

export async function handlePage({ query }) {
  const id = query.get('id') || '';
  const res = await get('/applications/' + enc(id));
  if (res.status !== 200) {
    return h('div', {}, crumbs(HOME, QUEUE, '办理'), pageHeader('办理申请书'), errorPanel(res.body && res.body.error));
  }
  const role = state.me.role;
  const stage = STAGE_OF_ROLE[role];
  const unitRes = role === 'unit_admin' ? await get('/units/me') : null;
  const unit = unitRes && unitRes.status === 200 ? unitRes.body.unit : null;

  let app = res.body;
  const root = h('div', { class: 'app-page review-page', dataset: { app: app.id } });
  const msgs = messageArea(); // outcomes of the decisions, kept across re-draws
  msgs.el.dataset.testid = 'page-messages';
  const opinionForms = new Map(); // section -> form of my opinion
  let parts;
  let shape = '';
  const shapeOf = (a) => [a.status, (a.actions || []).map((x) => x.action).join(',')].join('|');

  // A new structure means a new state: earlier messages no longer apply.
  function update(next) {
    app = next;
    if (shapeOf(next) !== shape) {
      msgs.clear();
      render();
    } else {
      parts.update(next);
    }
  }
  async function reload() {
    const r = await get('/applications/' + enc(id));
    if (r.status === 200) update(r.body);
  }

  const canAct = () => (app.actions || []).length > 0;
  // my opinion of this round on a section, to start the textarea from
  const mine = (a, section) => (a.opinions || []).find((o) => o.section === section && o.stage === stage && o.round === a.round);

  function opinionForm(s) {
    const form = createForm({
      className: 'compact opinion-form',
      submitText: '保存',
      fields: [{ name: 'text', label: `审核意见（${s.title}）`, type: 'textarea', rows: 2, maxlength: 2000, value: (mine(app, s.name) || {}).text || '', placeholder: '如需申请人修改本栏目，请写明意见' }],
      async onSubmit(v) {
        const r = await put(`/applications/${enc(id)}/opinions/${enc(s.name)}`, { text: v.text });
        if (r.status === 200) {
          form.setStatus(v.text ? '意见已保存。' : '意见已清除。');
          update(r.body);
        }
        return r;
      },
    });
    opinionForms.set(s.name, form);
    return form.el;
  }

  const sectionOf = (a, name) => (a.sections || []).find((s) => s.name === name) || { name, fields: [] };

  // The section read-only; beside it (below on narrow screens) the opinions and mine.
  function sectionCard(s) {
    const others = parts.part((a) => {
      const list = (sectionOf(a, s.name).opinions || []).filter((o) => !(canAct() && o.stage === stage && o.round === a.round));
      return list.length ? [h('h3', { text: '审核意见' }), opinionList(list, { currentRound: a.round })] : null;
    }, 'div', { class: 'opinion-block' });
    const side = canAct() ? [others, opinionForm(s)] : [others];
    return h('section', { class: 'card section', id: 'section-' + s.name, dataset: { section: s.name } },
      h('div', { class: 'section-head' }, h('h2', { text: s.title }),
        s.missing ? badge('尚未填写：' + s.missing, 'warn') : null),
      h('div', { class: 'review-body' + (canAct() ? ' with-side' : '') },
        h('div', { class: 'review-main' },
          sectionValues(s),
          h('div', { class: 'attach-block' }, h('h3', { text: '附件' }), parts.part((a) => attachmentList(a, sectionOf(a, s.name))))),
        h('div', { class: 'review-side' }, side)));
  }

  // Every opinion typed on the page, saved or not: {section: text}.
  function typedOpinions(general) {
    const out = {};
    for (const [name, form] of opinionForms) {
      const t = form.values().text;
      if (t) out[name] = t;
    }
    if (general) out.general = general;
    return out;
  }

  function decisions() {
    const acts = app.actions || [];
    const has = (x) => acts.find((a) => a.action === x);
    const unitForward = role === 'unit_admin' && has('forward');
    const recs = (unit && unit.recommenders) || [];
    const fields = [];
    if (unitForward) {
      fields.push({ name: 'recommendation', label: '单位推荐意见', type: 'textarea', rows: 3, maxlength: 2000, wide: true,
        requiredMark: true, placeholder: '对申请人思想政治表现、业务能力和工作业绩的推荐意见', value: app.recommendation || '' });
      fields.push({ name: 'dept', label: '推荐单位', type: 'select', wide: true,
        options: recs.length ? recs.map((d) => ({ value: d.id, label: `${refName(d)}（${refName(d, 'node_name') || d.node}）` })) : [{ value: '', label: '本单位尚未选择推荐单位' }],
        hint: '申请书提交至所选的推荐单位审核' });
    }
    fields.push({ name: 'general', label: '总体意见', type: 'textarea', rows: 2, maxlength: 2000, wide: true,
      value: (mine(app, 'general') || {}).text || '', hint: '选填；退回时与各栏目意见一并发给申请人' });

    const primary = acts.find((a) => a.action !== 'return' && a.action !== 'fail');
    const secondary = acts.filter((a) => a !== primary);
    // [button text, what it does]
    const decision = (a) => {
      if (a.action === 'forward' && role === 'unit_admin') return ['提交', a.label];
      const d = DECISIONS[a.action];
      return (Array.isArray(d) ? d : d && d[role]) || [a.label, a.label];
    };
    const text = (a) => decision(a)[0];
    const note = (a) => decision(a)[1];

    async function decide(a, values) {
      const body = { action: a.action, opinions: typedOpinions(values.general) };
      if (a.action === 'return' && !Object.keys(body.opinions).length) {
        form.setAlert('退回时请至少填写一个栏目的审核意见或总体意见，说明需要修改的内容。');
        return undefined;
      }
      if (a.action === 'forward' && role === 'unit_admin') {
        if (!values.recommendation) {
          form.setFieldError('recommendation', '请填写单位推荐意见。');
          form.input('recommendation').focus();
          return undefined;
        }
        body.recommendation = values.recommendation;
        if (values.dept) body.dept = values.dept;
      }
      const dept = recs.find((d) => d.id === values.dept);
      const ok = await confirmDialog({
        title: text(a),
        danger: a.action === 'return' || a.action === 'fail',
        confirmText: '确认' + text(a),
        body: h('div', {},
          h('p', { text: a.action === 'return'
            ? `申请书将退回申请人${app.applicant ? `（${app.applicant.name}）` : ''}修改，审核意见一并发送。`
            : `${note(a)}${dept ? `：${refName(dept)}` : ''}。` }),
          Object.keys(body.opinions).length ? h('p', { class: 'muted', text: `已填写审核意见 ${Object.keys(body.opinions).length} 条。` }) : null),
      });
      if (!ok) return undefined;
      ownAction(id);
      const r = await post(`/applications/${enc(id)}/review`, body);
      ownAction(id, r.status === 200 && r.body ? r.body.status : 'none');
      if (r.status === 200) {
        update(r.body);
        msgs.setStatus(`已${text(a)}，申请书当前状态：${r.body.status_name}。`);
      }
      return r;
    }

    const form = createForm({
      className: 'two-col decision-form',
      submitText: primary ? text(primary) : '确定',
      fields,
      aliases: { opinions: 'general' },
      actions: secondary.map((a) => h('button', {
        type: 'button', class: 'btn ' + (a.action === 'return' || a.action === 'fail' ? 'danger' : ''), text: text(a),
        onclick: () => form.act(() => decide(a, form.values())),
      })),
      onSubmit: (v) => decide(primary, v),
    });
    if (!primary) form.submit.remove();
    const incomplete = unit && !unit.complete;
    return h('section', { class: 'card decisions', 'aria-labelledby': 'decide-title', dataset: { testid: 'decisions' } },
      h('h2', { id: 'decide-title', text: '办理' }),
      incomplete ? h('p', { class: 'notice warn' }, '本单位信息不完整，不能开展审核工作。', h('a', { href: '#/unit/info', text: '完善单位信息' })) : null,
      unitForward && !recs.length ? h('p', { class: 'notice warn' }, '本单位尚未选择推荐单位。', h('a', { href: '#/unit/recommenders', text: '选择推荐单位' })) : null,
      h('p', { class: 'muted', text: `可办理：${acts.map((a) => (note(a) === text(a) ? t(text(a)) : `${t(text(a))}（${t(note(a))}）`)).join('；')}` }),
      form.el);
  }

  function render() {
    shape = shapeOf(app);
    parts = liveParts();
    parts.set(app);
    opinionForms.clear();
    const acting = canAct();
    const title = acting ? '办理申请书' : '查看申请书';
    clear(root,
      crumbs(HOME, acting ? QUEUE : ALL, title),
      pageHeader(title, acting ? '逐栏审阅申请书，可对任一栏目填写审核意见，然后作出办理决定' : '申请书当前不由您办理，仅供查看'),
      parts.part((a) => factsBar(a, { reviewer: true }), 'div', { class: 'facts-sticky' }),
      msgs.el,
      parts.part(returnedBanner),
      h('div', { class: 'card toc-card' }, parts.part((a) => sectionToc(a, (x) => (x.opinions || []).some((o) => o.round === a.round)),
        'nav', { 'aria-label': '申请书栏目' })),
      app.recommendation ? h('section', { class: 'card' }, h('h2', { text: '单位推荐意见' }), h('p', { class: 'pre', text: app.recommendation })) : null,
      (app.sections || []).map(sectionCard),
      acting ? decisions() : h('p', { class: 'form-actions' },
        STAGE_OF_ROLE[role] ? h('a', { class: 'btn', href: '#/review/queue', text: '返回申请书审核' }) : null,
        h('a', { class: 'btn', href: '#/review/all', text: '返回申请书查询' })),
      historyCard(parts));
  }

  followApplication(id, reload);
  render();
  return root;
}
