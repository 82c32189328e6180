// recover.js - 找回用户名或密码 and 账号申诉, at the account's home node: a code by phone or
// e-mail then a new password (POST /recovery/codes, /recovery/reset); an appeal with an
// ID-card scan or a unit's licence for the node admin to review (POST /appeals); and the
// approved appeal's one-time link that sets the new password (POST /recovery/appeal-reset).
import { post, api } from '../api.js';
import { state } from '../state.js';
import { refName } from '../i18n.js';
import { h, clear, createForm, pageHeader, crumbs } from '../ui.js';
import { newPasswordFields, checkFile, FILE_ACCEPT } from './fields.js';

const WAYS = [
  ['sms', '手机验证码', '验证码发送到账号绑定的手机号'],
  ['email', '邮箱验证码', '验证码发送到账号填写的电子邮箱'],
  ['person', '身份证申诉', '手机号和邮箱都不能使用时，上传身份证扫描件，由节点管理员审核'],
  ['unit', '单位申诉', '单位管理员账号：上传营业执照或法人证书扫描件，由节点管理员审核'],
];

const loginLink = () => h('a', { class: 'btn primary', href: '#/login', text: '前往登录' });

// Step 1 asks for the code; step 2 takes it with the new password.
function codeFlow(box, channel) {
  const where = channel === 'sms' ? '手机号' : '电子邮箱';
  const ask = createForm({
    submitText: '获取验证码',
    fields: [{ name: 'login', label: '用户名/身份证号/手机号', required: true, autocomplete: 'username' }],
    async onSubmit(v) {
      const res = await post('/recovery/codes', { login: v.login, channel });
      if (res.status === 202) showReset(v.login, res.body.message);
      return res;
    },
  });
  function showReset(login, message) {
    const reset = createForm({
      submitText: '设置新密码',
      fields: [
        { name: 'code', label: '验证码', required: true, inputmode: 'numeric', maxlength: 6, autocomplete: 'one-time-code',
          validate: (v) => (/^\d{6}$/.test(v) ? undefined : '验证码为6位数字。') },
        ...newPasswordFields('password', '新密码'),
      ],
      async onSubmit(v) {
        const res = await post('/recovery/reset', { login, code: v.code, password: v.password });
        if (res.status === 200) clear(box, h('div', { class: 'form-status', role: 'status', text: res.body.message }), loginLink());
        return res;
      },
    });
    reset.setStatus(`${message} 验证码10分钟内有效，消息中同时列出您的用户名。`);
    clear(box, reset.el);
    reset.input('code').focus();
  }
  clear(box, h('p', { class: 'hint', text: `验证码将发送到账号的${where}。请在账号所属区域的门户找回（当前区域：${refName(state.node)}）。` }), ask.el);
  ask.input('login').focus();
}

function appealFlow(box, kind) {
  const unit = kind === 'unit';
  const idKey = unit ? 'credit_code' : 'id_number';
  const form = createForm({
    submitText: '提交申诉',
    fields: [
      { name: 'name', label: unit ? '单位全称' : '姓名', required: true, maxlength: 60 },
      { name: idKey, label: unit ? '统一社会信用代码' : '身份证号', required: true, maxlength: 18 },
      { name: 'contact', label: '联系方式', required: true, maxlength: 60, hint: '手机号或电子邮箱：审核结果和设置新密码的链接将发送到这里' },
      { name: 'reason', label: '申诉理由', type: 'textarea', rows: 3, maxlength: 200 },
      { name: 'scan', label: unit ? '营业执照或法人证书扫描件' : '身份证扫描件', type: 'file', required: true, accept: FILE_ACCEPT,
        hint: 'JPEG、PNG或PDF格式，不超过2 MiB', validate: checkFile },
    ],
    async onSubmit(v) {
      const qs = new URLSearchParams({ kind, name: v.name, [idKey]: v[idKey].toUpperCase(), contact: v.contact, reason: v.reason });
      const res = await api('POST', '/appeals?' + qs, undefined, { raw: v.scan });
      if (res.status === 201) {
        clear(box, h('div', { class: 'form-status', role: 'status', dataset: { testid: 'appeal-sent' }, text: res.body.message }),
          h('p', { class: 'hint', text: `申诉编号：${res.body.appeal.id}` }));
      }
      return res;
    },
  });
  clear(box, h('p', { class: 'hint', text: '信息与账号相符的申诉经节点管理员核对扫描件后通过，您将收到一次性的设置新密码链接（7天内有效）。' }), form.el);
  form.input('name').focus();
}

export function recoverPage() {
  const box = h('div', { class: 'card', dataset: { testid: 'recover-step' } },
    h('p', { class: 'muted', text: '请选择找回方式。' }));
  const choose = (way) => (way === 'sms' || way === 'email' ? codeFlow(box, way) : appealFlow(box, way));
  return h('div', { class: 'narrow' },
    crumbs(['#/login', '登录'], '找回用户名或密码'),
    pageHeader('找回用户名或密码', '通过验证码重设密码，或提交账号申诉'),
    h('ul', { class: 'choice-list', 'aria-label': '找回方式' }, WAYS.map(([way, title, desc]) => h('li', {},
      h('button', { type: 'button', dataset: { way }, onclick: () => choose(way) },
        h('span', { class: 'menu-title', text: title }), h('span', { class: 'menu-desc', text: desc }))))),
    box);
}

export function appealResetPage({ query }) {
  const appeal = query.get('appeal') || '';
  const token = query.get('token') || '';
  const box = h('div', { class: 'card' });
  const form = createForm({
    submitText: '设置新密码',
    fields: newPasswordFields('password', '新密码'),
    async onSubmit(v) {
      const res = await post('/recovery/appeal-reset', { appeal, token, password: v.password });
      if (res.status === 200) clear(box, h('div', { class: 'form-status', role: 'status', text: res.body.message }), loginLink());
      return res;
    },
  });
  clear(box, h('p', { class: 'hint', text: '您的账号申诉已通过。此链接只能使用一次，7天内有效。' }), form.el);
  return h('div', { class: 'narrow' }, pageHeader('设置新密码', '账号申诉'), box);
}
