// me.js - 我的主页: the profile, what the role may do, ID-card scans and 修改评审区域 for
// applicants (at their home's portal) and the unit's state for unit admins.
import { get, put } from '../api.js';
import { refName } from '../i18n.js';
import { state, roleName, refreshMe, logout } from '../state.js';
import { h, pageHeader, dl, formatTime, messageArea, refText, typed } from '../ui.js';
import { idcardPanel } from './idcard.js';
import { regionPanel } from './transfer.js';
import { missingLabels } from './unit.js';
import { statusBadge } from './application-parts.js';
import { noticesCard } from './notices.js';

// Role-specific groups of entries: [group title, [[href, title, description], ...]].
const REVIEW = ['申请书办理', [
  ['#/review/queue', '申请书审核', '办理等待本单位（部门）审核的申请书'],
  ['#/review/all', '申请书查询', '查询经本单位（部门）办理的全部申请书'],
]];
const AUDIT = ['#/audit', '审计控制台', '各节点签名日志的同步状态、告警，逐条验证的日志浏览'];
const NOTICES = ['#/notices/manage', '发布通知', '起草、发布和撤回通知公告，上传附件'];
const MENUS = {
  applicant: [
    ['我的职称', [
      ['#/applications', '我的申请书', '查看申请书的状态和审核意见，编辑、提交或收回申请书'],
      ['#/applications/new', '新增申请书', '选择申报年度、资格名称、专业和工作单位'],
    ]],
  ],
  unit_admin: [
    ['单位管理', [
      ['#/unit/info', '完善单位信息', '填写单位地址、法定代表人、联系人等信息'],
      ['#/unit/rename', '变更单位名称', '单位更名后修改单位全称和简称'],
      ['#/unit/recommenders', '推荐单位', '选择本单位的推荐单位（最多两个）'],
    ]],
    REVIEW,
  ],
  dept_admin: [REVIEW],
  committee_admin: [
    REVIEW,
    ['评审委员会', [['#/committees', '评审委员会', '设置本委员会的申报时间、提交次数上限、评审费、纸质材料报送要求等'], NOTICES]],
  ],
  node_admin: [
    ['管理', [
      ['#/committees', '评审委员会', '本区域评审委员会的申报时间、提交次数上限、评审费等'],
      ['#/review/all', '申请书查询', '查询本区域的申请书（只读）'],
      NOTICES,
      AUDIT,
    ]],
    ['账号服务', [
      ['#/appeals', '账号申诉', '审核身份证或单位证照申诉，通过后申诉人可重设密码'],
      ['#/messages', '消息发件箱', '验证码、申诉结果和进度提醒等消息'],
    ]],
  ],
  auditor: [['审计', [AUDIT, ['#/review/all', '申请书查询', '查询本区域的申请书（只读）']]]],
};

const COMMON = ['账号设置', [
  ['#/me/profile', '编辑个人信息', '修改手机号、电子邮箱'],
  ['#/me/password', '修改密码', '定期修改密码，保护账号安全'],
]];

export async function mePage({ navigate }) {
  await refreshMe();
  const a = state.me;
  if (!a) {
    navigate('#/login?next=/me');
    return h('div');
  }
  const unitRes = a.role === 'unit_admin' ? await get('/units/me') : null;
  const unit = unitRes && unitRes.status === 200 ? unitRes.body.unit : null;

  const profile = h('section', { class: 'card profile', 'aria-labelledby': 'profile-title' },
    h('h2', { id: 'profile-title', text: '个人资料' }),
    dl([
      ['姓名', a.name],
      ['用户名', h('span', { class: 'mono', text: a.username })],
      ['角色', h('span', { class: 'role-tag', dataset: { testid: 'role' }, text: roleName(a) })],
      ['所属区域', a.home_name || a.home],
      a.id_number_masked ? ['身份证号', h('span', { class: 'mono', text: a.id_number_masked })] : null,
      ['手机号', a.phone],
      ['电子邮箱', a.email || '未填写'],
      a.unit ? ['所属单位', `${a.unit.name}（${a.unit.credit_code}）`] : null,
      a.dept ? ['推荐单位', a.dept.name || a.dept.id || String(a.dept)] : null,
      a.committee ? ['评审委员会', a.committee.name || a.committee.id || String(a.committee)] : null,
      ['注册时间', formatTime(a.created)],
    ]));

  const item = ([href, title, desc]) => h('li', {},
    h('a', { href }, h('span', { class: 'menu-title', text: title }), h('span', { class: 'menu-desc', text: desc })));
  const menu = h('section', { class: 'card menu', 'aria-labelledby': 'menu-title' },
    h('h2', { id: 'menu-title', text: '功能菜单' }),
    (MENUS[a.role] || []).map(([group, items]) => [
      h('h3', { class: 'menu-group', text: group }),
      h('ul', { class: 'menu-list' }, items.map(item))]),
    h('h3', { class: 'menu-group', text: COMMON[0] }),
    h('ul', { class: 'menu-list' },
      COMMON[1].map(item),
      h('li', {}, h('button', {
        type: 'button', class: 'menu-button',
        onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          await logout();
          navigate('#/login');
        },
      }, h('span', { class: 'menu-title', text: '退出登录' }), h('span', { class: 'menu-desc', text: '安全退出本系统' })))));

  const warning = a.role === 'unit_admin'
    ? h('p', { class: 'notice warn', role: 'note', text: '本账号为单位管理员账号，不能申报职称。' })
    : null;
  const blocks = [];
  if (unit) blocks.push(unitSummary(unit));
  if (a.role === 'applicant') {
    blocks.push(await myTitles());
    blocks.push(await noticesCard('/notices?for=me', '通知公告', '暂无与您的申报相关的通知。'));
    const idc = a.idcard || {};
    blocks.push(h('section', { class: 'card', 'aria-labelledby': 'idcard-title' },
      h('h2', { id: 'idcard-title', text: '身份证件' }),
      !(idc.front && idc.back) ? h('p', { class: 'notice warn', text: '请上传身份证人像面和国徽面，证件不全将影响职称申报。' }) : null,
      idcardPanel(idc, () => refreshMe())));
    if (a.home === (state.node && state.node.node)) {
      blocks.push(notifyPanel(a));
      blocks.push(regionPanel(a, () => refreshMe()));
    }
  }

  return h('div', { class: 'me' },
    pageHeader('我的主页', `欢迎您，${a.name || a.username}`),
    warning,
    h('div', { class: 'me-grid' }, h('div', { class: 'me-main' }, profile, blocks), menu));
}

function unitSummary(u) {
  const missing = missingLabels(u.missing);
  return h('section', { class: 'card', 'aria-labelledby': 'unit-title' },
    h('h2', { id: 'unit-title' }, '本单位信息 ',
      h('span', { class: 'badge ' + (u.complete ? 'ok' : 'warn'), text: u.complete ? '完整' : '不完整' })),
    dl([
      ['单位全称', typed(u.name)],
      ['单位简称', typed(u.short_name)],
      ['统一社会信用代码', h('span', { class: 'mono', text: u.credit_code })],
      ['所在区域', refText(u, 'node_name')],
      ['推荐单位', (u.recommenders || []).length ? u.recommenders.map((d) => `${refName(d)}（${refName(d, 'node_name') || d.node}）`).join('；') : '未选择'],
    ]),
    !u.complete ? h('p', { class: 'notice warn' }, `单位信息不完整，缺少：${missing.join('、')}。`,
      h('a', { href: '#/unit/info', text: '立即完善' })) : null);
}

// 我的职称: the applicant's applications in brief, leading to 我的申请书.
async function myTitles() {
  const res = await get('/applications');
  const items = res.status === 200 && res.body ? res.body.items || [] : [];
  return h('section', { class: 'card', 'aria-labelledby': 'titles-title', dataset: { testid: 'my-titles' } },
    h('h2', { id: 'titles-title', text: '我的职称' }),
    items.length
      ? h('ul', { class: 'title-list' }, items.slice(0, 3).map((x) => h('li', {},
        h('a', { href: '#/applications/edit?id=' + encodeURIComponent(x.id) },
          h('strong', { text: `${x.year}年度 ${refName(x, 'qualification_name')}` }), h('span', { class: 'muted', text: ` · ${refName(x, 'specialty_name')}` })),
        statusBadge(x.status, x.status_name, x.returned_by))))
      : h('p', { class: 'muted', text: '您还没有申请书。' }),
    h('div', { class: 'form-actions' },
      h('a', { class: 'btn primary', href: '#/applications', text: '我的申请书' }),
      h('a', { class: 'btn', href: '#/applications/new', text: '新增申请书' })));
}

// 进度提醒 (opt-in): returned, a stage passed, a result, a fee due; sent to the e-mail
// address, else the phone.
function notifyPanel(a) {
  const msgs = messageArea();
  const box = h('input', { type: 'checkbox', id: 'notify-switch', checked: !!a.notify, 'aria-describedby': 'notify-hint' });
  box.addEventListener('change', async () => {
    box.disabled = true;
    msgs.clear();
    const res = await put('/me/notifications', { enabled: box.checked });
    box.disabled = false;
    if (res.status === 200) {
      box.checked = res.body.notify;
      msgs.setStatus(res.body.notify ? '已开启进度提醒。' : '已关闭进度提醒。');
    } else {
      box.checked = !box.checked;
      msgs.showError(res.body && res.body.error);
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'notify-title', dataset: { testid: 'notify' } },
    h('h2', { id: 'notify-title', text: '进度提醒' }),
    h('div', { class: 'switch-row' }, box, h('label', { for: 'notify-switch', text: '申请书被退回、通过审核、有评审结果或需要缴费时通知我' })),
    h('p', { class: 'hint', id: 'notify-hint', text: `发送到${a.email ? '电子邮箱 ' + a.email : '手机号 ' + (a.phone || '')}；可随时关闭。` }),
    msgs.el);
}
