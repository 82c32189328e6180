// notices.js - 通知公告: the public list and one notice (published at any node, listed at
// every node; attachments served by the publishing node), the short list that 首页 and an
// applicant's 我的主页 show, and the desk of node and committee admins: drafts with
// attachments, 发布 and 撤回 (POST/PUT/DELETE /notices...).
import { get, post, put, del, upload } from '../api.js';
import { state } from '../state.js';
import { refName } from '../i18n.js';
import { formatSize, FILE_ACCEPT, checkFile } from './fields.js';
import { h, clear, pageHeader, crumbs, errorPanel, badge, dl, formatDate, formatTime, createForm, messageArea, runAction, confirmDialog } from '../ui.js';

const enc = encodeURIComponent;
const TITLE_MAX = 100;
const BODY_MAX = 10000;

const publisher = (n) => (n.committee ? `${refName(n, 'committee_name') || n.committee}（${refName(n, 'node_name')}）` : refName(n, 'node_name') || n.node);

function noticesTable(items) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table compact stack', dataset: { testid: 'notice-list' } },
    h('thead', {}, h('tr', {}, ['标题', '发布单位', '发布日期', '附件'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, items.map((n) => h('tr', { dataset: { id: n.id } },
      h('td', { 'data-label': '标题' }, h('a', { href: '#/notice?id=' + enc(n.id), text: n.title, translate: 'no' })),
      h('td', { 'data-label': '发布单位', text: publisher(n) }),
      h('td', { 'data-label': '发布日期', text: formatDate(n.published) }),
      h('td', { 'data-label': '附件', text: (n.attachments || []).length ? `${n.attachments.length} 个` : '—' }))))));
}

// A card with the newest notices (首页, 我的主页); path is the GET /notices query.
export async function noticesCard(path, title, empty) {
  const res = await get(path);
  const items = res.status === 200 && res.body ? (res.body.items || []).slice(0, 5) : [];
  return h('section', { class: 'card', 'aria-labelledby': 'notices-title', dataset: { testid: 'notices-card' } },
    h('h2', { id: 'notices-title', text: title }),
    items.length
      ? h('ul', { class: 'notice-list' }, items.map((n) => h('li', { dataset: { id: n.id } },
        h('a', { href: '#/notice?id=' + enc(n.id), text: n.title, translate: 'no' }),
        h('span', { class: 'muted', text: ` ${publisher(n)} · ${formatDate(n.published)}` }))))
      : h('p', { class: 'muted', text: empty }),
    h('p', {}, h('a', { href: '#/notices', text: '全部通知公告 →' })));
}

// ---------- public pages ----------

export async function noticesPage({ query }) {
  const qs = new URLSearchParams();
  for (const k of ['node', 'committee']) if (query.get(k)) qs.set(k, query.get(k));
  const res = await get('/notices' + (qs.toString() ? '?' + qs : ''));
  const head = pageHeader('通知公告', '自治区及各地州人社部门、各评审委员会发布的通知公告（全区各节点同步）');
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const items = res.body.items || [];
  return h('div', {}, head,
    h('section', { class: 'card' }, items.length ? noticesTable(items) : h('p', { class: 'muted', text: '暂无通知公告。' })));
}

function attachmentsList(n, onDelete) {
  const files = n.attachments || [];
  if (!files.length) return null;
  return h('ul', { class: 'attachments', dataset: { testid: 'notice-attachments' } }, files.map((f) => h('li', {},
    h('a', { href: f.url, download: f.name, text: f.name, translate: 'no' }),
    h('span', { class: 'muted', text: ` （${formatSize(f.size)}）` }),
    onDelete ? h('button', { type: 'button', class: 'btn small link', text: '删除', 'aria-label': `删除附件 ${f.name}`, onclick: (ev) => onDelete(f, ev.currentTarget) }) : null)));
}

// The text as paragraphs (a blank line between them), never as HTML, as its author wrote it
// in every interface language.
function bodyText(text) {
  return h('div', { class: 'notice-body', translate: 'no' }, String(text || '').split(/\n{2,}/).map((p) => h('p', { text: p })));
}

export async function noticePage({ query }) {
  const res = await get('/notices/' + enc(query.get('id') || ''));
  const head = crumbs(['#/notices', '通知公告'], '通知详情');
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const n = res.body.notice;
  const draft = n.state === 'draft';
  return h('div', {}, head, pageHeader(n.title, `${publisher(n)} · ${draft ? '草稿' : '发布于 ' + formatTime(n.published)}`, { typed: true }),
    h('article', { class: 'card', dataset: { testid: 'notice' } },
      draft ? h('p', { class: 'notice warn', text: '这是尚未发布的草稿，只有可编辑它的管理员能看到。' }) : null,
      bodyText(n.body),
      (n.attachments || []).length ? [h('h2', { class: 'sub-title', text: '附件' }), attachmentsList(n)] : null,
      draft ? h('p', {}, h('a', { class: 'btn', href: '#/notices/edit?id=' + enc(n.id), text: '继续编辑' })) : null));
}

// ---------- the desk (node admin, committee admin) ----------

// Where the caller may publish: [{value, label}], the node itself first for a node admin.
async function targets() {
  if (state.me.role === 'committee_admin') {
    const c = state.me.committee || {};
    return [{ value: c.id || String(c), label: refName(c) || c.id || String(c) }];
  }
  const res = await get('/committees?node=' + enc(state.node ? state.node.node : ''));
  const mine = res.status === 200 ? res.body.items || [] : [];
  return [{ value: '', label: `${state.node ? refName(state.node) : '本节点'}（人社部门）` }, ...mine.map((c) => ({ value: c.id, label: refName(c) }))];
}

function noticeFields(n, options) {
  return [
    options ? { name: 'committee', label: '发布单位', type: 'select', options, value: (n && n.committee) || '' } : null,
    { name: 'title', label: '通知标题', required: true, maxlength: TITLE_MAX, value: n ? n.title : '', wide: true },
    { name: 'body', label: '通知正文', type: 'textarea', rows: 10, required: true, maxlength: BODY_MAX, value: n ? n.body : '', wide: true,
      hint: '空一行即为新段落' },
  ].filter(Boolean);
}

export async function noticesManagePage({ navigate }) {
  const options = await targets();
  const [drafts, published] = await Promise.all([get('/notices?drafts=1'),
    get('/notices?node=' + enc(state.node ? state.node.node : '') +
      (state.me.role === 'committee_admin' ? '&committee=' + enc(options[0].value) : ''))]);
  const head = [crumbs(['#/me', '我的主页'], '发布通知'), pageHeader('发布通知', '起草通知公告、上传附件，发布后全区各节点同步显示')];
  if (drafts.status !== 200 || published.status !== 200) return h('div', {}, head, errorPanel((drafts.body || published.body || {}).error));

  const form = createForm({
    submitText: '保存草稿',
    fields: noticeFields(null, options.length > 1 ? options : null),
    async onSubmit(v) {
      const res = await post('/notices', { title: v.title, body: v.body, committee: v.committee || options[0].value || undefined });
      if (res.status === 201) navigate('#/notices/edit?id=' + enc(res.body.notice.id));
      return res;
    },
  });
  const msgs = messageArea();
  const withdraw = async (n, button) => {
    if (!(await confirmDialog({ title: '确认撤回', body: `撤回后全区各节点都不再显示“${n.title}”。`, confirmText: '撤回', danger: true }))) return;
    const res = await runAction(msgs, button, () => del('/notices/' + enc(n.id)));
    if (res && res.status === 200) navigate('#/notices/manage');
  };
  const draftItems = drafts.body.items || [];
  const ours = published.body.items || [];
  return h('div', {}, head,
    h('section', { class: 'card' }, h('h2', { text: '新建通知' }), form.el),
    h('section', { class: 'card', dataset: { testid: 'drafts' } }, h('h2', { text: '草稿' }),
      draftItems.length
        ? h('ul', { class: 'notice-list' }, draftItems.map((n) => h('li', { dataset: { id: n.id } },
          h('a', { href: '#/notices/edit?id=' + enc(n.id), text: n.title, translate: 'no' }),
          h('span', { class: 'muted', text: ` ${publisher(n)} · 创建于 ${formatTime(n.created)}` }))))
        : h('p', { class: 'muted', text: '没有草稿。' })),
    h('section', { class: 'card', dataset: { testid: 'published' } }, h('h2', { text: '已发布' }), msgs.el,
      ours.length
        ? h('ul', { class: 'notice-list' }, ours.map((n) => h('li', { dataset: { id: n.id } },
          h('a', { href: '#/notice?id=' + enc(n.id), text: n.title, translate: 'no' }),
          h('span', { class: 'muted', text: ` ${publisher(n)} · ${formatDate(n.published)} ` }),
          h('button', { type: 'button', class: 'btn small danger', text: '撤回', onclick: (ev) => withdraw(n, ev.currentTarget) }))))
        : h('p', { class: 'muted', text: '尚未发布通知。' })));
}

export async function noticeEditPage({ query, navigate }) {
  const id = query.get('id') || '';
  const head = crumbs(['#/me', '我的主页'], ['#/notices/manage', '发布通知'], '编辑通知');
  const res = await get('/notices/' + enc(id));
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  let n = res.body.notice;
  if (n.state !== 'draft') navigate('#/notice?id=' + enc(id));

  const msgs = messageArea();
  const files = h('div');
  const showFiles = () => clear(files, attachmentsList(n, async (f, button) => {
    const r = await runAction(msgs, button, () => del(`/notices/${enc(id)}/attachments/${f.n}`));
    if (r && r.status === 200) {
      n = r.body.notice;
      showFiles();
      msgs.setStatus(`已删除附件 ${f.name}。`);
    }
  }) || h('p', { class: 'muted', text: '暂无附件。' }));
  showFiles();

  const form = createForm({
    submitText: '保存',
    fields: noticeFields(n, null),
    async onSubmit(v, f) {
      const r = await put('/notices/' + enc(id), { title: v.title, body: v.body });
      if (r.status === 200) {
        n = r.body.notice;
        f.setStatus('草稿已保存。');
      }
      return r;
    },
  });
  const fileForm = createForm({
    submitText: '上传附件',
    fields: [{ name: 'file', label: '附件', type: 'file', required: true, accept: FILE_ACCEPT, validate: checkFile,
      hint: 'PDF、JPEG或PNG格式，每个不超过2 MB，最多5个' }],
    async onSubmit(v, f) {
      const r = await upload(`/notices/${enc(id)}/attachments?name=${enc(v.file.name)}`, v.file);
      if (r.status === 201) {
        n = r.body.notice;
        showFiles();
        f.input('file').value = '';
        f.setStatus(`已上传 ${v.file.name}。`);
      }
      return r;
    },
  });
  const publish = h('button', {
    type: 'button', class: 'btn primary', dataset: { testid: 'publish' }, text: '发布',
    onclick: async (ev) => {
      if (!(await confirmDialog({ title: '确认发布', body: '发布后全区各节点都会显示这条通知，不能再修改（可以撤回）。', confirmText: '发布' }))) return;
      const r = await runAction(msgs, ev.currentTarget, () => post(`/notices/${enc(id)}/publish`, {}));
      if (r && r.status === 200) navigate('#/notice?id=' + enc(id));
    },
  });
  const remove = h('button', {
    type: 'button', class: 'btn danger', text: '删除草稿',
    onclick: async (ev) => {
      if (!(await confirmDialog({ title: '确认删除', body: '删除后草稿及其附件不可恢复。', confirmText: '删除', danger: true }))) return;
      const r = await runAction(msgs, ev.currentTarget, () => del('/notices/' + enc(id)));
      if (r && r.status === 200) navigate('#/notices/manage');
    },
  });
  return h('div', {}, head, pageHeader('编辑通知', `${publisher(n)} · 草稿`),
    h('section', { class: 'card' }, h('h2', { text: '标题和正文' }), form.el),
    h('section', { class: 'card' }, h('h2', { text: '附件' }), files, fileForm.el),
    h('section', { class: 'card' }, msgs.el,
      dl([['状态', badge('草稿', 'muted')], ['创建时间', formatTime(n.created)]]),
      h('div', { class: 'form-actions' }, publish, remove)));
}
