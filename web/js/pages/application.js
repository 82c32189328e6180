// application.js - 编辑申请书 (the applicant's own application): the key-facts bar, one form
// per section with its own 保存, attachments per section, 提交 / 收回 / 更改资格, the return
// opinions in red, and the history. Read-only (查看申请书) when the status allows no edits.
import { get, put, post, del, upload } from '../api.js';
import { ownAction } from '../live.js';
import { refName } from '../i18n.js';
import {
  h, clear, createForm, pageHeader, errorPanel, crumbs, messageArea, runAction, confirmDialog, errorText, badge,
} from '../ui.js';
import { FILE_ACCEPT, checkFile } from './fields.js';
import {
  factsBar, returnedBanner, opinionList, sectionValues, sectionState, attachmentList, historyCard, followApplication, liveParts,
  loadCatalog, qualificationFields, bindQualification, committeeCard, qualificationText, jump, sectionToc,
} from './application-parts.js';
import { conditionsCard, unmetWarning } from './conditions.js';

const HOME = ['#/me', '我的主页'];
const MINE = ['#/applications', '我的申请书'];
const enc = encodeURIComponent;

// A section's fields as createForm fields: required ones marked, not enforced (a section
// may be saved unfinished; 提交 checks completeness).
function formFields(section) {
  const data = section.data || {};
  return (section.fields || []).map((f) => {
    const base = { name: f.name, label: f.label, requiredMark: !!f.required, value: data[f.name] ?? '' };
    if (base.value !== '') base.value = String(base.value);
    switch (f.type) {
      case 'textarea': return { ...base, type: 'textarea', rows: 4, maxlength: 5000, wide: true };
      case 'date': return { ...base, type: 'date' };
      case 'number': return { ...base, type: 'number', inputmode: 'numeric', min: 0 };
      case 'select': return { ...base, type: 'select', options: [{ value: '', label: '请选择' }, ...(f.options || []).map((o) => ({ value: o, label: o }))] };
      default: return { ...base, type: 'text', maxlength: 200 };
    }
  });
}

export async function applicationPage({ query, navigate }) {
  const id = query.get('id') || '';
  const res = await get('/applications/' + enc(id));
  if (res.status !== 200) {
    return h('div', {}, crumbs(HOME, MINE, '申请书'), pageHeader('申请书'), errorPanel(res.body && res.body.error),
      h('p', {}, h('a', { href: '#/applications', text: '返回我的申请书' })));
  }
  const catalog = await loadCatalog();
  let app = res.body;
  const root = h('div', { class: 'app-page', dataset: { app: app.id } });
  const msgs = messageArea(); // outcomes of 提交 / 收回 / 删除, kept across re-draws
  msgs.el.dataset.testid = 'page-messages';
  const changeBox = h('div', { class: 'change-box' });
  let parts;
  let conditions = null; // the 任职资格条件 card while the application is editable
  let shape = '';

  // What decides the page's structure; anything else is re-drawn in place.
  const shapeOf = (a) => [a.status, a.editable, a.withdrawable, a.qualification && a.qualification.code,
    a.specialty && a.specialty.code].join('|');

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

  // An action of this page on the application (提交, 收回 …): no toast for its echo.
  const own = (request) => async () => {
    ownAction(id);
    const r = await request();
    ownAction(id, r.status === 200 && r.body ? r.body.status : 'none');
    return r;
  };

  async function reload() {
    const r = await get('/applications/' + enc(id));
    if (r.status === 200) update(r.body);
    return r;
  }

  // ---------- actions of the bar ----------

  async function submit(button) {
    const n = (app.submit_count || 0) + 1;
    const m = app.submit_limit;
    const warning = await unmetWarning(id);
    const ok = await confirmDialog({
      title: '提交申请书',
      confirmText: '确认提交',
      body: [
        h('p', { class: 'confirm-count', dataset: { testid: 'submit-count' }, text: n <= m
          ? `这将是第 ${n} 次提交，上限 ${m} 次。`
          : `已提交 ${n - 1} 次，已达到上限 ${m} 次。` }),
        h('p', { text: '提交后申请书送交基层单位审核，审核期间不能修改；单位开始审核前可以收回。' }),
        warning,
      ],
    });
    if (!ok) return;
    const r = await runAction(msgs, button, own(() => post(`/applications/${enc(id)}/submit`, {})));
    if (r && r.status === 200) {
      update(r.body);
      msgs.setStatus(`申请书已提交（第 ${r.body.submit_count} 次），当前状态：${r.body.status_name}。`);
    } else if (r && r.body && r.body.error && r.body.error.section) {
      // incomplete: name the section and lead there
      const s = (app.sections || []).find((x) => x.name === r.body.error.section);
      if (s) {
        msgs.setAlert([errorText(r.body.error), h('a', { href: '#section-' + s.name, class: 'alert-link', onclick: jump(s.name), text: `前往“${s.title}”栏目` })]);
        document.getElementById('section-' + s.name)?.classList.add('incomplete');
      }
    }
  }

  async function withdraw(button) {
    const ok = await confirmDialog({
      title: '收回申请书',
      confirmText: '确认收回',
      body: h('p', { text: `收回后申请书回到草稿状态，可以修改后重新提交。已用的提交次数不退回（已提交 ${app.submit_count} 次，上限 ${app.submit_limit} 次）。` }),
    });
    if (!ok) return;
    const r = await runAction(msgs, button, own(() => post(`/applications/${enc(id)}/withdraw`, {})));
    if (r && r.status === 200) {
      update(r.body);
      msgs.setStatus('申请书已收回，当前状态：草稿。');
    }
  }

  async function remove(button) {
    const ok = await confirmDialog({ title: '删除申请书', confirmText: '删除', danger: true,
      body: h('p', { text: '删除后申请书及其附件不可恢复。确定删除吗？' }) });
    if (!ok) return;
    const r = await runAction(msgs, button, () => del('/applications/' + enc(id)));
    if (r && r.status === 200) navigate('#/applications');
  }

  function barActions(a) {
    const out = [];
    const can = (x) => (a.actions || []).some((y) => y.action === x);
    if (can('submit')) out.push(h('button', { type: 'button', class: 'btn primary', text: '提交', onclick: (ev) => submit(ev.currentTarget) }));
    if (a.withdrawable) out.push(h('button', { type: 'button', class: 'btn', text: '收回', onclick: (ev) => withdraw(ev.currentTarget) }));
    if (a.editable && catalog) out.push(h('button', { type: 'button', class: 'btn', text: '更改资格', 'aria-expanded': changeBox.childElementCount ? 'true' : 'false', onclick: openChange }));
    if (a.editable && a.status === 'draft' && !a.submit_count) out.push(h('button', { type: 'button', class: 'btn danger', text: '删除', onclick: (ev) => remove(ev.currentTarget) }));
    return out;
  }

  // ---------- 更改资格 ----------

  function closeChange() {
    clear(changeBox);
    parts.update(app); // the bar's 更改资格 shows it is closed
  }

  function openChange() {
    if (changeBox.childElementCount) {
      closeChange();
      return;
    }
    const q = app.qualification || {};
    const preview = h('div', { class: 'change-preview', 'aria-live': 'polite' });
    const form = createForm({
      className: 'three-col',
      submitText: '查看评审委员会',
      fields: qualificationFields(catalog, { series: q.series, specialty: app.specialty && app.specialty.code, qualification: q.code }),
      actions: [h('button', { type: 'button', class: 'btn', text: '取消', onclick: closeChange })],
      async onSubmit(v) {
        clear(preview);
        if (v.qualification === q.code && v.specialty === (app.specialty && app.specialty.code)) {
          form.setAlert('资格名称和专业均未改变。');
          return undefined;
        }
        const p = new URLSearchParams({ unit: app.unit.credit_code, qualification: v.qualification, specialty: v.specialty });
        const r = await get('/jurisdiction?' + p);
        if (r.status === 200) showPreview(preview, v, r.body.committee);
        return r;
      },
    });
    bindQualification(form, catalog, () => clear(preview));
    clear(changeBox, h('section', { class: 'card change-card', dataset: { testid: 'change-qualification' } },
      h('h2', { text: '更改资格' }),
      h('p', { class: 'muted', text: `当前：${qualificationText(q, app.level)} · ${refName(app.specialty)}。更改后已填写的内容和附件保留，评审委员会按属地化原则重新确定。` }),
      form.el, preview));
    form.input('series').focus();
    parts.update(app); // the bar's 更改资格 shows it is open
  }

  function showPreview(box, v, committee) {
    const m = messageArea();
    const confirm = h('button', { type: 'button', class: 'btn primary', text: '确认更改' });
    confirm.addEventListener('click', async () => {
      const r = await runAction(m, confirm, () => post(`/applications/${enc(id)}/qualification`, { qualification: v.qualification, specialty: v.specialty }));
      if (r && r.status === 200) {
        clear(changeBox);
        update(r.body);
        msgs.setStatus(`已更改资格：${qualificationText(r.body.qualification, r.body.level)} · ${refName(r.body.specialty)}，评审委员会：${refName(r.body.committee)}。`);
      }
    });
    clear(box,
      h('h3', { text: '更改后的评审委员会' }),
      committeeCard(committee),
      m.el,
      h('div', { class: 'form-actions' }, confirm));
    confirm.focus();
  }

  // ---------- sections ----------

  const sectionOf = (a, name) => (a.sections || []).find((s) => s.name === name) || { name, fields: [] };

  function sectionCard(s) {
    const editable = app.editable;
    const stateBox = parts.part((a) => {
      const st = sectionState(sectionOf(a, s.name));
      return badge(st.done ? '✓ ' + st.text : st.text, st.done ? 'ok' : 'warn', { dataset: { testid: 'section-state' } });
    }, 'div', { class: 'section-state' });
    const opinions = parts.part((a) => opinionList(sectionOf(a, s.name).opinions,
      { currentRound: a.round, red: a.status === 'returned' }), 'div');

    let body;
    if (editable) {
      const form = createForm({
        className: 'two-col section-form',
        submitText: '保存',
        fields: formFields(s),
        async onSubmit(v) {
          const r = await put(`/applications/${enc(id)}/sections/${enc(s.name)}`, { data: v });
          if (r.status === 200) {
            card.classList.remove('incomplete');
            msgs.clear(); // e.g. an earlier 提交's refusal
            update(r.body);
            if (conditions) conditions.refresh();
            form.setStatus(`“${s.title}”已保存。`);
          }
          return r;
        },
      });
      body = form.el;
    } else {
      body = parts.part((a) => sectionValues(sectionOf(a, s.name)), 'div');
    }

    const card = h('section', { class: 'card section', id: 'section-' + s.name, dataset: { section: s.name }, 'aria-labelledby': 'sec-title-' + s.name },
      h('div', { class: 'section-head' }, h('h2', { id: 'sec-title-' + s.name, text: s.title }), stateBox),
      opinions,
      body,
      attachmentsBlock(s, editable));
    return card;
  }

  function attachmentsBlock(s, editable) {
    const m = messageArea();
    const onDelete = editable ? async (att, button) => {
      const ok = await confirmDialog({ title: '删除附件', confirmText: '删除', danger: true, body: h('p', { text: `确定删除附件“${att.name}”吗？` }) });
      if (!ok) return;
      const r = await runAction(m, button, () => del(`/applications/${enc(id)}/attachments/${enc(att.id)}`));
      if (r && r.status === 200) {
        update(r.body);
        m.setStatus(`附件“${att.name}”已删除。`);
      }
    } : null;
    const list = parts.part((a) => attachmentList(a, sectionOf(a, s.name), onDelete), 'div');
    let uploadForm = null;
    if (editable) {
      uploadForm = createForm({
        className: 'upload-form',
        submitText: '上传附件',
        fallbackField: 'file',
        fields: [
          { name: 'file', label: '选择文件', type: 'file', accept: FILE_ACCEPT, required: true, validate: checkFile, hint: '支持 JPEG、PNG、PDF 格式，每个文件不超过 2 MiB' },
          { name: 'name', label: '附件名称', maxlength: 100, placeholder: '选填，默认为文件名', hint: '如：学历证书、获奖证书' },
        ],
        async onSubmit(v) {
          m.clear();
          const name = (v.name || v.file.name || '附件').slice(0, 100);
          const r = await upload(`/applications/${enc(id)}/attachments?section=${enc(s.name)}&name=${enc(name)}`, v.file);
          if (r.status === 201) {
            uploadForm.input('file').value = '';
            uploadForm.input('file').dispatchEvent(new Event('change'));
            uploadForm.input('name').value = '';
            uploadForm.setStatus(`附件“${name}”已上传。`);
            await reload();
          }
          return r;
        },
      });
    }
    return h('div', { class: 'attach-block' },
      h('h3', {}, '附件 ', s.attachments_required ? badge('须上传证明材料', 'info') : h('span', { class: 'muted small', text: '（选传）' })),
      list, m.el, uploadForm ? uploadForm.el : null);
  }

  // ---------- the page ----------

  function render() {
    shape = shapeOf(app);
    parts = liveParts();
    parts.set(app);
    const title = app.editable ? '编辑申请书' : '查看申请书';
    conditions = app.editable ? conditionsCard(id) : null;
    const sub = app.editable
      ? '请逐栏填写并分别保存，上传所需附件，全部完成后点击“提交”。带 * 的为必填项。'
      : app.withdrawable
        ? '申请书正在单位审核中，不能修改；单位开始审核前可以收回后修改。'
        : '当前状态下申请书不能修改。';
    clear(root,
      crumbs(HOME, MINE, title),
      pageHeader(title, sub),
      parts.part((a) => factsBar(a, { actions: barActions(a) }), 'div', { class: 'facts-sticky' }),
      msgs.el,
      changeBox,
      parts.part(returnedBanner),
      h('div', { class: 'card toc-card' }, parts.part((a) => sectionToc(a, (s) => a.status === 'returned'
        && (s.opinions || []).some((o) => o.round === a.round)), 'nav', { 'aria-label': '申请书栏目' })),
      conditions ? conditions.el : null,
      (app.sections || []).map(sectionCard),
      historyCard(parts));
  }

  followApplication(id, reload);
  render();
  return root;
}
