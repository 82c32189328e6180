// register-unit.js - 单位注册: 注册须知 → the unit and its admin → the admin's username.
import { post } from '../api.js';
import { state, setMe } from '../state.js';
import { h, clear, createForm, notesStep, stepper, usernameBox, pageHeader } from '../ui.js';
import { newPasswordFields, phoneField } from './fields.js';

const STEPS = ['阅读注册须知', '填写单位信息', '完成注册'];

export const UNIT_NOTES = [
  '每个单位凭统一社会信用代码只能注册一次；单位全称和单位简称在全区范围内不得重复。',
  '注册成功后系统生成单位管理员账号，该账号负责审核、推荐本单位人员的职称申请书。',
  '单位管理员账号不能申报职称；单位管理员本人申报职称须另行注册申请人账号。',
  '注册后请先完善单位信息（单位地址、法定代表人、联系人、联系电话、所属行业等），单位信息不完整的不能开展审核工作。',
  '请妥善保管管理员账号和密码，单位管理员变动时请及时修改密码。',
];

export function registerUnitPage({ navigate }) {
  const root = h('div', { class: 'register' });
  const body = h('div');
  clear(root, pageHeader('单位注册', '基层（工作）单位注册，并开通单位管理员账号'), body);

  if (state.me) {
    clear(body, h('div', { class: 'card' },
      h('p', {}, `您已登录（${state.me.name || state.me.username}）。如需注册单位，请先退出登录。`),
      h('a', { class: 'btn primary', href: '#/me', text: '进入我的主页' })));
    return root;
  }

  const step = (i, ...content) => clear(body, stepper(STEPS, i), ...content);
  const showNotes = () => step(0, notesStep({ title: '单位注册须知', items: UNIT_NOTES, onNext: showForm }));

  function showForm() {
    const form = createForm({
      submitText: '注册',
      fields: [
        { name: 'credit_code', label: '统一社会信用代码', required: true, maxlength: 18, hint: '18位，见营业执照或事业单位法人证书' },
        { name: 'name', label: '单位全称', required: true, maxlength: 100 },
        { name: 'short_name', label: '单位简称', required: true, maxlength: 50 },
        { name: 'contact', label: '联系人', required: true, maxlength: 50 },
        phoneField('联系电话'),
        ...newPasswordFields('password', '管理员密码'),
      ],
      codeFields: { invalid_credit_code: 'credit_code' },
      actions: [h('button', { type: 'button', class: 'btn', text: '上一步', onclick: showNotes })],
      async onSubmit(v) {
        const res = await post('/units', {
          credit_code: v.credit_code.toUpperCase(), name: v.name, short_name: v.short_name,
          password: v.password, contact: v.contact, phone: v.phone,
          node: state.node ? state.node.node : undefined,
        });
        if (res.status === 201) {
          setMe(res.body.account, res.body.csrf);
          showDone(res.body.unit || {}, res.body.account);
        }
        return res;
      },
    });
    step(1, h('section', { class: 'card' }, h('h2', { text: '填写单位信息' }), form.el));
    form.input('credit_code').focus();
  }

  function showDone(unit, account) {
    step(2,
      h('section', { class: 'card success-card' },
        h('h2', { text: '单位注册成功' }),
        h('p', {}, '单位：', h('strong', { text: unit.name || '' })),
        usernameBox(account.username, '这是本单位管理员账号的用户名，由系统生成，请务必记下并妥善保管。'),
        h('p', { class: 'notice warn', text: '本账号为单位管理员账号，不能申报职称。请先完善单位信息，单位信息不完整的不能开展审核工作。' })),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn primary large', text: '完善单位信息', onclick: () => navigate('#/unit/info') }),
        h('button', { type: 'button', class: 'btn large', text: '进入我的主页', onclick: () => navigate('#/me') })));
  }

  showNotes();
  return root;
}
