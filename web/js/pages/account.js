// account.js - 编辑个人信息 and 修改密码, for every role.
import { put, post } from '../api.js';
import { state, setMe } from '../state.js';
import { h, createForm, pageHeader } from '../ui.js';
import { newPasswordFields, phoneField } from './fields.js';

const back = () => h('a', { class: 'btn', href: '#/me', text: '返回我的主页' });

export function profilePage() {
  const a = state.me;
  const form = createForm({
    submitText: '保存',
    fields: [
      phoneField('手机号', a.phone || ''),
      { name: 'email', label: '电子邮箱', type: 'email', maxlength: 100, autocomplete: 'email', value: a.email || '', hint: '选填，用于接收通知' },
    ],
    actions: [back()],
    async onSubmit(v) {
      const res = await put('/me', { phone: v.phone, email: v.email });
      if (res.status === 200) {
        setMe({ ...state.me, ...res.body.account });
        form.setStatus('个人信息已保存。');
      }
      return res;
    },
  });
  return h('div', { class: 'narrow' },
    pageHeader('编辑个人信息'),
    h('section', { class: 'card' },
      h('p', { class: 'muted', text: `姓名：${a.name || '—'}　用户名：${a.username}（姓名、身份证号不可修改）` }),
      form.el));
}

export function passwordPage() {
  const form = createForm({
    submitText: '修改密码',
    fields: [
      { name: 'old', label: '原密码', type: 'password', required: true, autocomplete: 'current-password' },
      ...newPasswordFields('new', '新密码'),
    ],
    actions: [back()],
    async onSubmit(v) {
      const res = await post('/me/password', { old: v.old, new: v.new });
      if (res.status === 200) {
        for (const n of ['old', 'new', 'confirm']) form.input(n).value = '';
        form.setStatus('密码已修改。为保障安全，该账号在其他设备或浏览器上的登录已全部退出，本次登录继续有效。');
      }
      return res;
    },
  });
  return h('div', { class: 'narrow' }, pageHeader('修改密码'), h('section', { class: 'card' }, form.el));
}
