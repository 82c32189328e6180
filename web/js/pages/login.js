// login.js - 登录: username, ID number or phone, and the password.
import { post } from '../api.js';
import { state, setMe, refreshMe } from '../state.js';
import { fillRegionSelect } from '../region.js';
import { h, createForm, pageHeader } from '../ui.js';
import { qrLoginPanel } from './qrlogin.js';

export function loginPage({ query, navigate }) {
  const next = safeNext(query.get('next'));
  if (state.me) {
    return h('div', { class: 'narrow' }, pageHeader('登录'),
      h('div', { class: 'card' },
        h('p', {}, `您已登录（${state.me.name || state.me.username}）。`),
        h('a', { class: 'btn primary', href: '#/me', text: '进入我的主页' })));
  }

  const regionSelect = h('select', { id: 'login-region' });
  fillRegionSelect(regionSelect);

  const form = createForm({
    submitText: '登录',
    fields: [
      { name: 'login', label: '用户名/身份证号/手机号', required: true, autocomplete: 'username' },
      { name: 'password', label: '密码', type: 'password', required: true, autocomplete: 'current-password' },
    ],
    async onSubmit(v) {
      const res = await post('/session', { login: v.login, password: v.password });
      if (res.status === 200) await loggedIn(res.body);
      return res;
    },
  });
  async function loggedIn(body) {
    setMe(body.account, body.csrf);
    await refreshMe();
    navigate(next);
  }

  return h('div', { class: 'narrow' },
    pageHeader('登录', '申请人、单位管理员及各级管理人员统一登录入口'),
    h('div', { class: 'card' },
      h('div', { class: 'field' },
        h('label', { for: 'login-region', text: '登录区域' }),
        regionSelect,
        h('p', { class: 'hint', text: '全区账号通用，可在任一区域登录。' })),
      form.el,
      h('p', { class: 'form-foot' }, h('a', { href: '#/recover', text: '忘记用户名或密码？' })),
      h('p', { class: 'form-foot' }, '还没有账号？',
        h('a', { href: '#/register', text: '申请人注册' }), ' · ',
        h('a', { href: '#/register/unit', text: '单位注册' }))),
    qrLoginPanel(loggedIn));
}

// Only routes of this portal are followed after login (with a plain query such as ?id=).
function safeNext(next) {
  return next && /^\/[a-z/]*(\?[A-Za-z0-9_=&%-]*)?$/.test(next) ? '#' + next : '#/me';
}
