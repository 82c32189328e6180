// app.js - the portal shell: header (current region, region drop-down), navigation and
// the hash router (#/login, #/register, ...). Pages live in pages/*.js; each exports a
// function (ctx) => Node | Promise<Node>, loaded when its route is first opened (a first
// visit fetches the shell and the one page it shows: issue 10's slow phone link).
import { state, onChange, loadNode, refreshMe, logout, roleName } from './state.js';
import { fillRegionSelect } from './region.js';
import { h, clear, pageHeader, errorPanel } from './ui.js';
import { startLive, livePage } from './live.js';
import { startI18n, langSwitch, lang, chooseLang, t, refName } from './i18n.js';
import { put } from './api.js';

const SITE = '新疆维吾尔自治区职称申报评审系统';

const REVIEWERS = ['unit_admin', 'dept_admin', 'committee_admin'];
const READERS = [...REVIEWERS, 'node_admin', 'auditor'];

// One loader per page module; the build rewrites each import() to the hashed name.
const pages = {
  account: () => import('./pages/account.js'),
  appeals: () => import('./pages/appeals.js'),
  application: () => import('./pages/application.js'),
  applications: () => import('./pages/applications.js'),
  audit: () => import('./pages/audit.js'),
  catalog: () => import('./pages/catalog.js'),
  committees: () => import('./pages/committees.js'),
  home: () => import('./pages/home.js'),
  login: () => import('./pages/login.js'),
  me: () => import('./pages/me.js'),
  notices: () => import('./pages/notices.js'),
  payments: () => import('./pages/payments.js'),
  paysandbox: () => import('./pages/paysandbox.js'),
  qrlogin: () => import('./pages/qrlogin.js'),
  recover: () => import('./pages/recover.js'),
  register: () => import('./pages/register.js'),
  registerUnit: () => import('./pages/register-unit.js'),
  results: () => import('./pages/results.js'),
  review: () => import('./pages/review.js'),
  unit: () => import('./pages/unit.js'),
  verify: () => import('./pages/verify.js'),
};

// auth: needs a session; roles: only these roles; load and page: the module and its export.
const routes = {
  '/': { title: '首页', load: pages.home, page: 'homePage' },
  '/login': { title: '登录', load: pages.login, page: 'loginPage' },
  '/register': { title: '申请人注册', load: pages.register, page: 'registerPage' },
  '/register/unit': { title: '单位注册', load: pages.registerUnit, page: 'registerUnitPage' },
  '/catalog': { title: '职称目录', load: pages.catalog, page: 'catalogPage' },
  '/verify': { title: '评审表验证', load: pages.verify, page: 'verifyPage' },
  '/paysandbox': { title: '非税缴费（沙箱）', load: pages.paysandbox, page: 'paySandboxPage' },
  '/results': { title: '评审结果', load: pages.results, page: 'resultsPage' },
  '/publicity': { title: '评审结果公示', load: pages.results, page: 'publicityPage' },
  '/approval': { title: '批文', load: pages.results, page: 'approvalPage' },
  '/certificate': { title: '证书查询', load: pages.results, page: 'certificatePage' },
  '/notices': { title: '通知公告', load: pages.notices, page: 'noticesPage' },
  '/notice': { title: '通知详情', load: pages.notices, page: 'noticePage' },
  '/directory': { title: '联系评审委员会目录', load: pages.committees, page: 'directoryPage' },
  '/recover': { title: '找回用户名或密码', load: pages.recover, page: 'recoverPage' },
  '/qr': { title: '扫码登录', load: pages.qrlogin, page: 'qrApprovePage', auth: true },
  '/recover/appeal': { title: '设置新密码', load: pages.recover, page: 'appealResetPage' },
  '/notices/manage': { title: '发布通知', load: pages.notices, page: 'noticesManagePage', auth: true, roles: ['node_admin', 'committee_admin'] },
  '/notices/edit': { title: '编辑通知', load: pages.notices, page: 'noticeEditPage', auth: true, roles: ['node_admin', 'committee_admin'] },
  '/appeals': { title: '账号申诉', load: pages.appeals, page: 'appealsPage', auth: true, roles: ['node_admin'] },
  '/messages': { title: '消息发件箱', load: pages.appeals, page: 'messagesPage', auth: true, roles: ['node_admin'] },
  '/committees/publicity': { title: '发布公示', load: pages.results, page: 'publishPage', auth: true, roles: ['committee_admin'] },
  '/approvals/new': { title: '印发批文', load: pages.results, page: 'approvalNewPage', auth: true, roles: ['node_admin'] },
  '/me': { title: '我的主页', load: pages.me, page: 'mePage', auth: true },
  '/me/profile': { title: '编辑个人信息', load: pages.account, page: 'profilePage', auth: true },
  '/me/password': { title: '修改密码', load: pages.account, page: 'passwordPage', auth: true },
  '/unit/info': { title: '完善单位信息', load: pages.unit, page: 'unitInfoPage', auth: true, roles: ['unit_admin'] },
  '/unit/rename': { title: '变更单位名称', load: pages.unit, page: 'unitRenamePage', auth: true, roles: ['unit_admin'] },
  '/unit/recommenders': { title: '推荐单位', load: pages.unit, page: 'recommendersPage', auth: true, roles: ['unit_admin'] },
  '/applications': { title: '我的申请书', load: pages.applications, page: 'myApplicationsPage', auth: true, roles: ['applicant'] },
  '/applications/new': { title: '新增申请书', load: pages.applications, page: 'newApplicationPage', auth: true, roles: ['applicant'] },
  '/applications/edit': { title: '编辑申请书', load: pages.application, page: 'applicationPage', auth: true, roles: ['applicant'] },
  '/review/queue': { title: '申请书审核', load: pages.review, page: 'reviewQueuePage', auth: true, roles: REVIEWERS },
  '/review/all': { title: '申请书查询', load: pages.review, page: 'reviewAllPage', auth: true, roles: READERS },
  '/review/handle': { title: '办理申请书', load: pages.review, page: 'handlePage', auth: true, roles: READERS },
  '/committees': { title: '评审委员会', load: pages.committees, page: 'committeesPage', auth: true, roles: ['node_admin', 'committee_admin'] },
  '/committees/payments': { title: '缴费名单', load: pages.payments, page: 'paymentsPage', auth: true, roles: ['node_admin', 'committee_admin'] },
  '/audit': { title: '审计控制台', load: pages.audit, page: 'auditPage', auth: true, roles: ['node_admin', 'auditor'] },
};

// The navigation entries of each role after 我的主页.
const ROLE_NAV = {
  applicant: [['#/applications', '我的申请书']],
  unit_admin: [['#/review/queue', '申请书审核'], ['#/review/all', '申请书查询']],
  dept_admin: [['#/review/queue', '申请书审核'], ['#/review/all', '申请书查询']],
  committee_admin: [['#/review/queue', '申请书审核'], ['#/review/all', '申请书查询'], ['#/committees', '评审委员会']],
  node_admin: [['#/review/all', '申请书查询'], ['#/committees', '评审委员会'], ['#/approvals/new', '印发批文'], ['#/appeals', '账号申诉'], ['#/audit', '审计控制台']],
  auditor: [['#/review/all', '申请书查询'], ['#/audit', '审计控制台']],
};

export function parseHash(hash = window.location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path: path.replace(/\/+$/, '') || '/', query: new URLSearchParams(qs || '') };
}

export function navigate(hash) {
  if (window.location.hash === hash) render();
  else window.location.hash = hash;
}

function navLinks() {
  const items = [['#/', '首页'], ['#/notices', '通知公告'], ['#/catalog', '职称目录'], ['#/directory', '评审委员会目录'], ['#/results', '评审结果'], ['#/verify', '评审表验证'], ['#/certificate', '证书查询']];
  if (state.me) items.push(['#/me', '我的主页'], ...(ROLE_NAV[state.me.role] || []));
  else items.push(['#/login', '登录'], ['#/register', '申请人注册'], ['#/register/unit', '单位注册']);
  return items;
}

function renderChrome() {
  const { path } = parseHash();
  const nav = document.getElementById('nav-links');
  clear(nav, navLinks().map(([href, text]) => {
    const target = href.slice(1) || '/';
    const active = target === '/' ? path === '/' : path === target || path.startsWith(target + '/');
    return h('li', {}, h('a', { href, class: active ? 'active' : '', 'aria-current': active ? 'page' : undefined, text }));
  }));

  const box = document.getElementById('user-box');
  if (state.me) {
    clear(box,
      h('span', { class: 'who' },
        h('span', { class: 'who-name', translate: 'no', text: state.me.name || state.me.username }),
        h('span', { class: 'role-tag', text: roleName(state.me) })),
      h('button', {
        type: 'button', class: 'btn link light', text: '退出登录',
        onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          await logout();
          navigate('#/login');
        },
      }));
  } else {
    clear(box);
  }

  const name = state.node ? refName(state.node) : '未知';
  document.getElementById('region-name').textContent = name;
  fillRegionSelect(document.getElementById('region-select'));
}

let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  const { path, query } = parseHash();
  const main = document.getElementById('main');
  const route = routes[path];
  renderChrome();

  if (!route) {
    show(main, seq, '页面不存在', h('div', {}, pageHeader('页面不存在'),
      h('p', {}, '您访问的页面不存在。', h('a', { href: '#/', text: '返回首页' }))));
    return;
  }
  if (route.auth && !state.me) {
    const qs = query.toString();
    navigate('#/login?next=' + encodeURIComponent(path + (qs ? '?' + qs : '')));
    return;
  }
  if (route.roles && !route.roles.includes(state.me.role)) {
    show(main, seq, route.title, h('div', {}, pageHeader(route.title),
      errorPanel({ message: `当前账号（${roleName(state.me)}）无权使用此功能。` }),
      h('p', {}, h('a', { href: '#/me', text: '返回我的主页' }))));
    return;
  }

  clear(main, h('p', { class: 'loading', role: 'status', text: '加载中…' }));
  livePage(null); // live updates go to the page being opened from now on
  let el;
  try {
    el = await (await route.load())[route.page]({ path, query, navigate });
  } catch (e) {
    console.error(e);
    el = h('div', {}, pageHeader(route.title), errorPanel({ message: '页面加载失败，请刷新后重试。' }));
  }
  show(main, seq, route.title, el);
}

function show(main, seq, title, el) {
  if (seq !== renderSeq) return; // a newer navigation won
  clear(main, el);
  document.title = `${t(title)} - ${t(SITE)}`;
  const h1 = main.querySelector('h1');
  if (h1 && document.activeElement !== document.body) h1.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// The header's 界面语言 switch; once logged in the choice is the account's too.
function mountLangSwitch() {
  const sel = langSwitch(async (l) => {
    if (state.me) await put('/me/language', { lang: l });
  });
  document.querySelector('.region-box').append(h('div', { class: 'region-switch lang-switch' },
    h('label', { for: 'lang-select', text: '界面语言' }), sel));
}

// An account that chose a language gets it wherever it logs in to this node.
function followAccountLang() {
  if (state.me && state.me.lang && state.me.lang !== lang) chooseLang(state.me.lang);
}

async function boot() {
  const first = routes[parseHash().path];
  if (first) first.load().catch(() => {}); // fetched while the API answers; render() reports a failure
  await startI18n();
  mountLangSwitch();
  document.getElementById('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    document.getElementById('main').focus();
  });
  onChange(renderChrome);
  onChange(followAccountLang);
  await Promise.all([loadNode(), refreshMe()]);
  startLive();
  window.addEventListener('hashchange', render);
  await render();
  document.body.dataset.ready = '1';
}

boot();
