// ui.js - small DOM helpers shared by every page: an element builder, the one form helper
// (fields, field errors, top-of-form errors, busy state), and a few reusable pieces.
// Server text is always inserted as text, never as HTML.

import { refName } from './i18n.js';

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

// A file fetched with the session (an ID-card or an appeal's scan) as the page shows it in
// box: an image linking to its full size, or a link that opens the PDF. The object URL the
// box showed before is released.
export function showFile(box, blob, { alt, pdfText, imgClass }) {
  if (box.dataset.url) URL.revokeObjectURL(box.dataset.url);
  const url = URL.createObjectURL(blob);
  box.dataset.url = url;
  clear(box, blob.type.startsWith('image/')
    ? h('a', { href: url, target: '_blank', rel: 'noopener', title: '查看原图' }, h('img', { class: imgClass, src: url, alt }))
    : h('a', { class: 'pdf-link', href: url, target: '_blank', rel: 'noopener', text: pdfText }));
}

// Text people typed (an address, a contact, a notice): shown as written, never translated.
export const typed = (text) => h('span', { translate: 'no', text });

// Reference data (names of regions, the catalogue, committees, recommending units, and
// text composed of them) in the interface language: the translator leaves it alone, and
// data-ref tells it from what people typed (tests check it is in the page's language).
export const refData = (text) => h('span', { translate: 'no', 'data-ref': '', text });
// A reference object's name (i18n.js refName) as reference data.
export const refText = (o, key) => refData(refName(o, key));

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// "（可于 14:05:30 之后重试）": the clock time for 429 answers that carry retry_after seconds;
// the server's message already says how long to wait.
export function retryText(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  const at = new Date(Date.now() + s * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `（可于 ${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())} 之后重试）`;
}

export function errorText(err) {
  if (!err) return '操作失败，请重试。';
  let msg = err.message || '操作失败，请重试。';
  if (err.retry_after) msg = msg.replace(/[。.]$/, '') + retryText(err.retry_after);
  return msg;
}

// Where an error leads the user next: a link for the codes that have one.
const ERROR_LINKS = {
  unit_incomplete: ['#/unit/info', '完善单位信息'],
  no_recommender: ['#/unit/recommenders', '选择推荐单位'],
};

// The error as shown: its text, plus a link when the error says where to fix it.
export function errorContent(err) {
  const link = err && ERROR_LINKS[err.code];
  const text = errorText(err);
  return link ? [text, h('a', { href: link[0], class: 'alert-link', text: link[1] })] : text;
}

// A top-of-area alert (errors) and status line (success): the one way to show messages,
// used by every form and by pages for actions outside a form.
export function messageArea() {
  const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
  const status = h('div', { class: 'form-status', role: 'status', 'aria-live': 'polite', hidden: true });
  const m = {
    alert,
    status,
    el: h('div', { class: 'messages' }, alert, status),
    setAlert(msg) {
      clear(alert, msg || '');
      alert.hidden = !msg || (Array.isArray(msg) && !msg.length);
      if (!alert.hidden) status.hidden = true;
    },
    setStatus(msg) {
      clear(status, msg || '');
      status.hidden = !msg;
      if (msg) alert.hidden = true;
    },
    showError(err) {
      m.setAlert(errorContent(err));
      alert.scrollIntoView({ block: 'nearest' });
    },
    clear() {
      m.setAlert('');
      m.setStatus('');
    },
  };
  return m;
}

let formSeq = 0;

// The one way to build a form. fields: [{name, label, type, required, requiredMark (marked
// as required without blocking the submit), hint, value, autocomplete, inputmode,
// maxlength, min, max, placeholder, options:[{value,label}], accept, rows, wide,
// render: () => Node (custom control), validate: (value, values) => message|undefined}].
// onSubmit(values, form) may return an api() result: a 4xx/5xx/0 is shown automatically,
// next to the field that error.field names (aliases maps server names to ours), else the
// field that codeFields gives for error.code (codes that concern one field even when the
// server names none), else next to fallbackField when given, else on top.
export function createForm({ fields, submitText = '提交', onSubmit, aliases = {}, codeFields = {}, actions = [], className, fallbackField }) {
  const id = 'f' + ++formSeq;
  const msgs = messageArea();
  const { alert, status } = msgs;
  const controls = new Map();
  const rows = new Map();

  const el = h('form', { class: 'form ' + (className || ''), id, novalidate: true });
  // The field errors of the last submit, read out by screen readers: the focus moves to the
  // first field in error (whose aria-describedby names its error), but when it is already
  // there (Enter in that field) nothing would be announced without this region.
  const live = h('div', { class: 'sr-only sr-errors', 'aria-live': 'assertive', 'aria-atomic': 'true' });
  let liveTimer = 0;
  const announce = (messages) => {
    clearTimeout(liveTimer);
    live.textContent = '';
    // set a moment later, so that the same text after another submit is announced again
    if (messages.length) liveTimer = setTimeout(() => { live.textContent = messages.join(' '); }, 50);
  };
  el.append(alert, status, live);

  for (const f of fields) {
    const fid = `${id}-${f.name}`;
    const hintId = fid + '-hint';
    const errId = fid + '-err';
    let control;
    if (f.render) {
      control = f.render();
    } else if (f.type === 'select') {
      control = h('select', { id: fid, name: f.name, required: f.required },
        (f.options || []).map((o) => h('option', { value: o.value, text: o.label })));
      if (f.value !== undefined) control.value = f.value;
    } else if (f.type === 'textarea') {
      control = h('textarea', { id: fid, name: f.name, required: f.required, rows: f.rows || 3, maxlength: f.maxlength, placeholder: f.placeholder });
      control.value = f.value ?? '';
    } else {
      control = h('input', {
        id: fid, name: f.name, type: f.type || 'text', required: f.required,
        autocomplete: f.autocomplete || (f.type === 'password' ? 'new-password' : 'off'),
        inputmode: f.inputmode, maxlength: f.maxlength, placeholder: f.placeholder, accept: f.accept,
        min: f.min, max: f.max, spellcheck: 'false',
      });
      if (f.type !== 'file') control.value = f.value ?? '';
    }
    // A file input keeps its native control (focusable, labelled) but shows a Chinese button
    // and the chosen name, whatever the browser's own language.
    let widget = control;
    if (f.type === 'file') {
      control.className = 'file-input';
      const chosen = h('span', { class: 'file-name', text: '未选择文件' });
      control.addEventListener('change', () => {
        const file = control.files && control.files[0];
        chosen.textContent = file ? file.name : '未选择文件';
      });
      widget = h('div', { class: 'file-pick' }, control,
        h('span', { class: 'btn small file-button', 'aria-hidden': 'true', text: '选择文件' }), chosen);
    }
    const describedBy = [f.hint ? hintId : null, errId].filter(Boolean).join(' ');
    control.setAttribute('aria-describedby', describedBy);
    if (!control.id) control.id = fid;
    // requiredMark: required to complete (marked) but not to save, e.g. a section saved as a draft
    const star = f.required || f.requiredMark ? h('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }) : null;
    if (f.requiredMark && !f.render) control.setAttribute('aria-required', 'true');
    let label;
    if (f.render) {
      // a custom control (e.g. a list) is a labelled group, not a labelable element
      label = h('span', { class: 'label', id: fid + '-label' }, f.label, star);
      // (a list keeps its own role: its items need it)
      if (!control.getAttribute('role') && !['UL', 'OL'].includes(control.tagName)) control.setAttribute('role', 'group');
      control.setAttribute('aria-labelledby', label.id);
    } else {
      label = h('label', { for: control.id }, f.label, star);
    }
    const row = h('div', { class: 'field' + (f.wide ? ' wide' : ''), dataset: { field: f.name } },
      label,
      widget,
      f.hint ? h('p', { class: 'hint', id: hintId, text: f.hint }) : null,
      h('p', { class: 'field-error', id: errId, hidden: true }));
    controls.set(f.name, control);
    rows.set(f.name, row);
    el.append(row);
  }

  const submit = h('button', { type: 'submit', class: 'btn primary', text: submitText });
  el.append(h('div', { class: 'form-actions' }, submit, actions));

  const fieldLabel = (name) => (fields.find((f) => f.name === name) || {}).label || '';

  const form = {
    el,
    submit,
    input: (name) => controls.get(name),
    row: (name) => rows.get(name),
    values() {
      const v = {};
      for (const f of fields) {
        const c = controls.get(f.name);
        if (f.render) v[f.name] = f.value ? f.value() : undefined;
        else if (f.type === 'file') v[f.name] = c.files && c.files[0] ? c.files[0] : null;
        else v[f.name] = f.trim === false || f.type === 'password' ? c.value : c.value.trim();
      }
      return v;
    },
    setFieldError(name, msg) {
      const row = rows.get(name);
      if (!row) return false;
      const p = row.querySelector('.field-error');
      p.textContent = msg;
      p.hidden = !msg;
      row.classList.toggle('invalid', !!msg);
      const c = controls.get(name);
      if (msg) c.setAttribute('aria-invalid', 'true');
      else c.removeAttribute('aria-invalid');
      if (msg) announce([`${fieldLabel(name)}：${msg}`]); // a submit's errors replace it with all of them
      return true;
    },
    setAlert: msgs.setAlert,
    setStatus: msgs.setStatus,
    clearErrors() {
      for (const name of rows.keys()) form.setFieldError(name, '');
      announce([]);
      form.setAlert('');
      form.setStatus('');
    },
    // Show an API error: next to its field when the form has it, otherwise on top.
    showError(err, fallbackField) {
      const msg = errorText(err);
      const named = err && err.field ? aliases[err.field] || err.field : null;
      const byCode = err && err.code ? codeFields[err.code] : null;
      for (const name of [named, byCode, fallbackField]) {
        if (name && form.setFieldError(name, msg)) {
          const c = controls.get(name);
          if (c && c.focus) c.focus();
          return;
        }
      }
      msgs.showError(err);
    },
    setBusy(busy) {
      el.setAttribute('aria-busy', busy ? 'true' : 'false');
      el.classList.toggle('busy', busy);
      for (const b of el.querySelectorAll('button')) {
        if (busy) {
          b.dataset.wasDisabled = b.disabled ? '1' : '';
          b.disabled = true;
        } else {
          b.disabled = b.dataset.wasDisabled === '1';
        }
      }
    },
    // A button's action other than the submit (e.g. 退回): old messages cleared, then run.
    async act(action, fallbackField) {
      if (el.classList.contains('busy')) return undefined;
      form.clearErrors();
      return form.run(action, fallbackField);
    },
    // Run an async action with the form busy; API failures are shown, the result returned.
    async run(action, fallbackField) {
      form.setBusy(true);
      try {
        const res = await action();
        if (res && (res.status === 0 || res.status >= 400)) form.showError(res.body && res.body.error, fallbackField);
        return res;
      } finally {
        form.setBusy(false);
      }
    },
  };

  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (el.classList.contains('busy')) return;
    form.clearErrors();
    const values = form.values();
    let first = null;
    const messages = [];
    for (const f of fields) {
      const v = values[f.name];
      let msg;
      if (f.required && (v === '' || v === null || v === undefined)) msg = `请填写${f.label}。`;
      else if (f.validate) msg = f.validate(v, values);
      if (msg) {
        form.setFieldError(f.name, msg);
        messages.push(`${f.label}：${msg}`);
        first = first || f.name;
      }
    }
    if (first) {
      announce(messages);
      const c = controls.get(first);
      if (c && c.focus) c.focus();
      return;
    }
    await form.run(() => onSubmit(values, form), fallbackField);
  });

  return form;
}

// Step 1 of both registrations: the notes, a consent checkbox and 下一步.
export function notesStep({ title, items, onNext }) {
  const next = h('button', { type: 'button', class: 'btn primary', disabled: true, text: '下一步', onclick: onNext });
  const box = h('input', { type: 'checkbox', id: 'agree-' + ++formSeq });
  box.addEventListener('change', () => { next.disabled = !box.checked; });
  return h('section', { class: 'notes card', 'aria-labelledby': 'notes-title' },
    h('h2', { id: 'notes-title', text: title }),
    h('ol', { class: 'notes-list' }, items.map((t) => h('li', { text: t }))),
    h('div', { class: 'agree' }, box, h('label', { for: box.id, text: '我已阅读并同意' })),
    h('div', { class: 'form-actions' }, next));
}

export function stepper(labels, current, label = '注册步骤') {
  return h('ol', { class: 'stepper', 'aria-label': label },
    labels.map((l, i) => h('li', {
      class: i < current ? 'done' : i === current ? 'current' : '',
      'aria-current': i === current ? 'step' : undefined,
    }, h('span', { class: 'num', text: String(i + 1) }), h('span', { text: l }))));
}

// The system-assigned username, shown so that nobody misses it.
export function usernameBox(username, note) {
  return h('div', { class: 'username-box', role: 'status' },
    h('div', { class: 'label', text: '您的用户名' }),
    h('div', { class: 'username', dataset: { testid: 'username' }, text: username }),
    h('p', { text: note || '用户名由系统生成，请务必记下。登录时可使用用户名、身份证号或手机号。' }));
}

// typed: the title is what someone wrote (a notice's), shown as written in every language.
export function pageHeader(title, sub, { typed: bTyped = false } = {}) {
  return h('div', { class: 'page-head' },
    h('h1', { tabindex: '-1', text: title, translate: bTyped ? 'no' : undefined }),
    sub ? h('p', { class: 'sub', text: sub }) : null);
}

export function errorPanel(err) {
  return h('div', { class: 'form-alert', role: 'alert' }, errorContent(err));
}

export function dl(rows) {
  return h('dl', { class: 'kv' }, rows.filter(Boolean).map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v ?? '—')]));
}

export function formatTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

// An action outside a form (提交, 收回, 删除 …): its buttons disabled in flight, a failure
// shown in msgs (a messageArea), the api() result returned.
export async function runAction(msgs, buttons, action) {
  const list = (Array.isArray(buttons) ? buttons : [buttons]).filter(Boolean);
  if (list.some((b) => b.getAttribute('aria-busy') === 'true')) return undefined;
  const was = list.map((b) => b.disabled);
  for (const b of list) {
    b.disabled = true;
    b.setAttribute('aria-busy', 'true');
  }
  msgs.clear();
  try {
    const res = await action();
    if (res && (res.status === 0 || res.status >= 400)) msgs.showError(res.body && res.body.error);
    return res;
  } finally {
    list.forEach((b, i) => {
      b.disabled = was[i];
      b.removeAttribute('aria-busy');
    });
  }
}

// A modal confirmation: resolves true when confirmed. body: text or nodes.
export function confirmDialog({ title, body, confirmText = '确定', cancelText = '取消', danger = false }) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: 'btn ' + (danger ? 'danger solid' : 'primary'), text: confirmText });
    const cancel = h('button', { type: 'button', class: 'btn', text: cancelText });
    const titleId = 'dlg-' + ++formSeq;
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId, text: title }),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'form-actions' }, ok, cancel));
    let answered = false;
    const done = (v) => {
      if (answered) return;
      answered = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
    ok.focus();
  });
}

// A short message in the corner (live updates). link: [href, text].
export function toast(text, link) {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const item = h('div', { class: 'toast' },
    h('span', { class: 'toast-text', text }),
    link ? h('a', { href: link[0], text: link[1], onclick: () => item.remove() }) : null,
    h('button', { type: 'button', class: 'toast-close', 'aria-label': '关闭', text: '×', onclick: () => item.remove() }));
  box.append(item);
  setTimeout(() => item.remove(), 6000);
  return item;
}

// 我的主页 › 我的职称 › 我的申请书: items are [href, text], the last one plain text.
export function crumbs(...items) {
  return h('nav', { class: 'crumbs', 'aria-label': '当前位置' },
    h('ol', {}, items.map((it, i) => h('li', {},
      Array.isArray(it) ? h('a', { href: it[0], text: it[1] }) : h('span', { 'aria-current': i === items.length - 1 ? 'page' : undefined, text: it })))));
}

export function badge(text, kind = '', attrs = {}) {
  return h('span', { class: `badge ${kind}`.trim(), ...attrs, text });
}

export function formatDate(s) {
  return s ? String(s).slice(0, 10) : '—';
}
