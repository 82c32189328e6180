// register.js - 申请人注册: 注册须知 → the form → the assigned username and the ID-card scans.
import { post } from '../api.js';
import { state, setMe } from '../state.js';
import { h, clear, createForm, notesStep, stepper, usernameBox, pageHeader } from '../ui.js';
import { newPasswordFields, phoneField } from './fields.js';
import { idcardPanel } from './idcard.js';

const STEPS = ['阅读注册须知', '填写注册信息', '上传身份证件'];

export const APPLICANT_NOTES = [
  '一个身份证号在全区（自治区及各地州）只能注册一个账号，请勿重复注册；注册后可在任一区域登录。',
  '单位管理员账号不能申报职称。如您同时是单位管理员，请另行以本人身份证号注册申请人账号。',
  '用户名由系统自动生成，注册成功后请牢记用户名，并妥善保管密码，不要告知他人。',
  '注册时须上传本人身份证人像面和国徽面的扫描件或照片（JPEG、PNG 或 PDF 格式，每个文件不超过 2 MiB）。',
  '您填写的个人信息仅用于职称申报评审工作，我们将依法保护您的个人信息。',
];

export function registerPage({ navigate }) {
  const root = h('div', { class: 'register' });
  const body = h('div');
  clear(root, pageHeader('申请人注册', '专业技术人员申报职称前，请先注册申请人账号'), body);

  if (state.me) {
    clear(body, h('div', { class: 'card' },
      h('p', {}, `您已登录（${state.me.name || state.me.username}）。如需注册新账号，请先退出登录。`),
      h('a', { class: 'btn primary', href: '#/me', text: '进入我的主页' })));
    return root;
  }

  const step = (i, ...content) => clear(body, stepper(STEPS, i), ...content);

  const showNotes = () => step(0, notesStep({ title: '注册须知', items: APPLICANT_NOTES, onNext: showForm }));

  function showForm() {
    const form = createForm({
      submitText: '注册',
      fields: [
        { name: 'id_number', label: '身份证号', required: true, maxlength: 18, hint: '18位居民身份证号码，末位为 X 时大小写均可' },
        { name: 'name', label: '姓名', required: true, maxlength: 50, autocomplete: 'name', hint: '与身份证上的姓名一致' },
        phoneField('手机号'),
        ...newPasswordFields('password', '密码'),
      ],
      codeFields: { invalid_id_number: 'id_number', id_number_taken: 'id_number', phone_taken: 'phone' },
      actions: [h('button', { type: 'button', class: 'btn', text: '上一步', onclick: showNotes })],
      async onSubmit(v) {
        const res = await post('/accounts', { id_number: v.id_number, name: v.name, password: v.password, phone: v.phone });
        if (res.status === 201) {
          setMe(res.body.account, res.body.csrf);
          showDone(res.body.account);
        }
        return res;
      },
    });
    step(1, h('section', { class: 'card' }, h('h2', { text: '填写注册信息' }), form.el));
    form.input('id_number').focus();
  }

  function showDone(account) {
    step(2,
      h('section', { class: 'card success-card' },
        h('h2', { text: '注册成功' }),
        usernameBox(account.username, '用户名由系统生成，请务必记下（可抄写或截图保存）。登录时可使用用户名、身份证号或手机号。')),
      h('section', { class: 'card' },
        h('h2', { text: '上传身份证件' }),
        h('p', { class: 'muted', text: '请分别上传身份证人像面和国徽面。如暂时无法上传，也可稍后在“我的主页”补传。' }),
        idcardPanel(account.idcard || {})),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn primary large', text: '进入我的主页', onclick: () => navigate('#/me') })));
  }

  showNotes();
  return root;
}
