// home.js - 首页: welcome, entry points, the newest notices, the workflow and this region's
// recommending units.
import { get } from '../api.js';
import { state } from '../state.js';
import { refName } from '../i18n.js';
import { h } from '../ui.js';
import { noticesCard } from './notices.js';

const DEPT_COLUMNS = [['name', '推荐单位'], ['address', '地址'], ['contact', '联系人'], ['phone', '联系电话']];

const FLOW = ['申请人提交申请书', '基层单位审核推荐', '推荐单位审核', '评审委员会形式审查', '会议评审', '结果公示', '下发批文', '颁发证书'];

export async function homePage() {
  const region = refName(state.node);
  const nodeId = state.node && state.node.node;
  const [depts, notices] = await Promise.all([nodeId ? get('/depts?node=' + encodeURIComponent(nodeId)) : null,
    noticesCard('/notices', '通知公告', '暂无通知公告。')]);
  const deptItems = depts && depts.status === 200 && depts.body && Array.isArray(depts.body.items) ? depts.body.items : [];

  const actions = state.me
    ? [h('a', { class: 'btn primary large', href: '#/me', text: '进入我的主页' })]
    : [
      h('a', { class: 'btn primary large', href: '#/login', text: '登录系统' }),
      h('a', { class: 'btn large ghost', href: '#/register', text: '申请人注册' }),
      h('a', { class: 'btn large ghost', href: '#/register/unit', text: '单位注册' }),
    ];

  return h('div', { class: 'home' },
    h('section', { class: 'hero' },
      h('div', { class: 'hero-text' },
        h('h1', { tabindex: '-1', text: '职称申报评审服务' }),
        h('p', { class: 'lead' }, '当前评审区域：', h('strong', { class: 'hero-region', text: region })),
        h('p', { text: '全区统一账号，一个身份证号只能注册一个账号，可在自治区及各地州任一区域门户登录。' }),
        h('div', { class: 'hero-actions' }, actions))),

    h('section', { class: 'tiles', 'aria-label': '服务入口' },
      tile('#/register', '申请人', '专业技术人员注册账号、上传身份证件，在线填报和提交职称申请书。', '申请人注册'),
      tile('#/register/unit', '基层单位', '用人单位以统一社会信用代码注册，完善单位信息，审核推荐本单位人员。', '单位注册'),
      tile('#/catalog', '职称目录', '查看各职称系列的专业和资格名称，以及员级至正高级的层级设置。', '查看目录'),
      tile('#/directory', '评审委员会', '各评审委员会的联系方式、申报时间和纸质材料报送要求。', '查看目录')),

    notices,

    h('section', { class: 'card' },
      h('h2', { text: '申报评审流程' }),
      h('ol', { class: 'flow' }, FLOW.map((t, i) => h('li', {}, h('span', { class: 'num', text: String(i + 1) }), h('span', { text: t }))))),

    h('section', { class: 'card' },
      h('h2', { text: `${region}推荐单位` }),
      deptItems.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'table stack' },
          h('thead', {}, h('tr', {}, DEPT_COLUMNS.map(([, t]) => h('th', { scope: 'col', text: t })))),
          h('tbody', {}, deptItems.map((d) => h('tr', {},
            DEPT_COLUMNS.map(([k, t]) => h('td', { 'data-label': t, translate: k === 'name' ? undefined : 'no', text: d[k] || '—' })))))))
        : h('p', { class: 'muted', text: '本区域暂未公布推荐单位。' })));
}

function tile(href, title, text, cta) {
  return h('a', { class: 'tile', href },
    h('h2', { text: title }),
    h('p', { text }),
    h('span', { class: 'tile-cta', text: cta + ' →' }));
}
