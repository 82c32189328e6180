// conditions.js - 任职资格条件 on the application page: what the application's level asks
// (education, years, continuing education, assessments, papers, results, practice), each
// judged by what has been filled in (GET /applications/{id}/conditions), and the warning
// that 提交 shows when some are not met. A warning only: the committee decides.
import { get } from '../api.js';
import { t, refName, labelText } from '../i18n.js';
import { h, clear, badge } from '../ui.js';

const STATUS = {
  met: ['符合', 'ok'],
  unmet: ['不符合', 'warn'],
  unknown: ['未填写', 'muted'],
  review: ['评审审核', 'info'],
};

async function load(id) {
  const res = await get(`/applications/${encodeURIComponent(id)}/conditions`);
  return res.status === 200 && res.body ? res.body.conditions : null;
}

function itemRow(c) {
  const [text, kind] = STATUS[c.status] || ['', ''];
  return h('li', { dataset: { key: c.key, status: c.status || '' } },
    h('span', {}, badge(text, kind)),
    h('strong', { text: labelText(t(c.label), t(c.requirement)) }),
    c.detail ? h('span', { class: 'cond-detail', text: c.detail }) : null);
}

// The card; refresh() re-reads it (after a section is saved).
export function conditionsCard(id) {
  const body = h('div', { 'aria-live': 'polite' });
  const el = h('section', { class: 'card', 'aria-labelledby': 'conditions-title', dataset: { testid: 'conditions' } },
    h('h2', { id: 'conditions-title', text: '任职资格条件自查' }), body);
  async function refresh() {
    const c = await load(id);
    if (!c) {
      clear(body, h('p', { class: 'muted', text: '该资格暂无任职资格条件。' }));
      return;
    }
    clear(body,
      h('p', { class: 'hint', text: `${refName(c)}（${c.level_name}）的申报条件，年限计算至${c.as_of.slice(0, 4)}年12月31日。以下为系统按已填写内容自查的结果，仅供参考，以评审委员会审核为准。` }),
      h('ul', { class: 'conditions' }, (c.items || []).map(itemRow)));
  }
  refresh();
  return { el, refresh };
}

// Nodes for the 提交 dialog naming the unmet conditions, or null when none is unmet.
export async function unmetWarning(id) {
  const c = await load(id);
  const unmet = c ? (c.items || []).filter((x) => x.status === 'unmet') : [];
  if (!unmet.length) return null;
  return h('div', { class: 'notice warn', role: 'note', dataset: { testid: 'unmet-conditions' } },
    h('p', { text: `按已填写的内容，以下 ${unmet.length} 项任职资格条件尚不符合：` }),
    h('ul', {}, unmet.map((x) => h('li', { text: labelText(t(x.label), t(x.detail)) }))),
    h('p', { text: '仍可提交，由评审委员会最终审核；如填写有误，请先修改。' }));
}
