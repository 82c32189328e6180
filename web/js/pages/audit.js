// audit.js - 审计控制台 for node admins and auditors: the federation's replication status
// (GET /fed/status and the heads of GET /fed/entries), refreshed every few seconds, and the
// log browser (GET /fed/entries): entries of every origin this node holds, filtered by
// node, type, account or application, a page at a time, each with the node's own check of
// its signature and chain.
import { get } from '../api.js';
import { refName } from '../i18n.js';
import { h, clear, pageHeader, errorPanel, crumbs, badge, formatTime } from '../ui.js';

const HOME = ['#/me', '我的主页'];
const REFRESH_MS = 5000;
const PAGE_SIZE = 20;

// Entry types of node/entries.c; a type this portal does not know shows as it is.
export const ENTRY_TYPES = {
  'account.registered': '账号注册',
  'account.updated': '账号信息修改',
  'account.credentials': '密码修改',
  'unit.registered': '单位注册',
  'unit.updated': '单位信息完善',
  'unit.renamed': '单位更名',
  'unit.recommenders': '推荐单位变更',
  'committee.updated': '评审委员会设置',
  'application.created': '新增申请书',
  'application.deleted': '删除申请书',
  'application.qualification': '更改资格',
  'application.moved': '申请书流转',
  'application.opinion': '审核意见',
  'application.handoff': '申请书转交',
  'application.accepted': '申请书接收',
  'account.transfer': '评审区域变更',
  'id.claimed': '身份证号登记',
  'id.released': '身份证号释放',
  'phone.claimed': '手机号登记',
  'unit.claimed': '单位信息登记',
  'unit.released': '单位信息释放',
};

const TRANSFER_STATES = { offered: '已提出', accepted: '新区域已接收' };

// What a failed check means (fedview.h, entry.h, zc-audit): a short name and what it says.
const PROBLEMS = {
  bad_signature: ['签名无效', '内容或签名已被改动，与节点密钥的签名不符'],
  key_invalid: ['密钥无效', '签名密钥不属于该节点，或在条目时间不在有效期内'],
  not_canonical: ['格式不规范', '条目内容不是规范格式的JSON'],
  bad_entry: ['字段有误', '条目缺少字段或字段取值有误'],
  wrong_origin: ['来源不符', '条目所写的来源节点与所在日志不符'],
  seq_gap: ['序号不连续', '本节点缺少前一条条目'],
  prev_mismatch: ['链接断开', '条目记录的前一条哈希与本节点持有的前一条不符'],
  hash_mismatch: ['哈希不符', '存储的哈希与条目内容不符'],
  no_manifest: ['无法验证', '本节点未加载联邦清单，无法验证签名'],
};

// Alerts of GET /fed/status.
const ALERTS = {
  equivocation: '双重签名：同一序号出现两条不同的签名条目',
  entry_refused: '收到的条目未通过验证，已拒收',
  log_mismatch: '本节点日志与待发条目不一致，已停止写入',
  checkpoint_refused: '检查点未通过验证',
  checkpoint_mismatch: '某节点签署的检查点与本节点持有的条目不符',
  recovery_unchecked: '启动时没有其他节点应答，本节点未能核对自己的日志',
  no_key: '联邦清单中没有本节点持有私钥的有效密钥，本节点无法写入',
};

const LINK_STATES = {
  up: ['已连接', 'ok'],
  connecting: ['连接中', 'warn'],
  authenticating: ['认证中', 'warn'],
  closing: ['断开中', 'warn'],
  down: ['未连接', 'danger'],
};

const typeName = (t) => ENTRY_TYPES[t] || t;
const problemName = (code) => (PROBLEMS[code] || ['验证未通过'])[0];
const problemText = (code) => (PROBLEMS[code] ? PROBLEMS[code].join('：') : `验证未通过（${code}）`);
const shortHash = (x) => h('span', { class: 'mono', title: x || '', text: x ? x.slice(0, 12) + '…' : '—' });
const clock = () => new Date().toLocaleTimeString('zh-CN', { hour12: false });

export async function auditPage({ query }) {
  const status = statusPanel();
  const browser = logBrowser(query, status);
  await Promise.all([status.refresh(), browser.load()]);
  const root = h('div', { class: 'audit-page' },
    crumbs(HOME, '审计控制台'),
    pageHeader('审计控制台', '本节点持有的各节点签名日志：同步状态，以及逐条重新验证签名与链接的日志浏览'),
    status.el,
    browser.el);
  // refreshed while the page is shown; stops once another page replaced it
  const timer = setInterval(() => {
    if (!root.isConnected) clearInterval(timer);
    else status.refresh();
  }, REFRESH_MS);
  return root;
}

// ---------- the status ----------

function statusPanel() {
  const summary = h('p', { class: 'audit-summary', role: 'status', 'aria-live': 'polite', dataset: { testid: 'audit-summary' } });
  const when = h('p', { class: 'muted small', dataset: { testid: 'audit-refreshed' } });
  const body = h('div', { dataset: { testid: 'audit-status' } });
  const panel = {
    heads: [],
    el: h('section', { class: 'card', 'aria-labelledby': 'audit-status-title' },
      h('h2', { id: 'audit-status-title', text: '同步状态' }), summary, when, body),
    async refresh() {
      const [st, en] = await Promise.all([get('/fed/status'), get('/fed/entries?limit=1')]);
      if (st.status !== 200 || en.status !== 200) {
        setText(summary, '同步状态获取失败，稍后自动重试。');
        clear(body, errorPanel(((st.status !== 200 ? st : en).body || {}).error));
        return;
      }
      panel.heads = en.body.heads || [];
      const view = statusView(st.body, panel.heads);
      setText(summary, view.summary);
      summary.classList.toggle('bad', view.bad);
      when.textContent = `每${REFRESH_MS / 1000}秒自动刷新，上次刷新：${clock()}`;
      clear(body, view.el);
    },
  };
  return panel;
}

// An aria-live region speaks on every change: change it only when the text does.
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function statusView(st, heads) {
  const peers = st.peers || [];
  const alerts = st.alerts || [];
  const writer = st.writer || {};
  const name = (id) => refName(heads.find((x) => x.origin === id)) || id;
  let lagging = 0;

  const headRows = heads.map((o) => {
    const cells = peers.map((p) => {
      const r = (p.heads || {})[o.origin];
      if (!r) return h('td', { 'data-label': name(p.node), class: 'muted', text: '未报告' });
      const forked = r.seq === o.seq && r.hash !== o.hash;
      const off = r.lag !== 0 || forked;
      if (off) lagging++;
      return h('td', { 'data-label': name(p.node), class: off ? 'audit-off' : '' },
        h('span', { class: 'mono', text: String(r.seq) }), ' ',
        forked ? badge('哈希不同', 'danger') : r.lag > 0 ? badge(`落后 ${r.lag} 条`, 'warn')
          : r.lag < 0 ? badge(`领先 ${-r.lag} 条`, 'info') : badge('一致', 'ok'));
    });
    return h('tr', {},
      h('th', { scope: 'row' }, o.name || o.origin, h('span', { class: 'mono muted small', text: ` ${o.origin}` }),
        o.origin === st.node ? badge('本节点', 'info') : null),
      h('td', { 'data-label': '本节点持有', class: 'mono', text: String(o.seq) }),
      h('td', { 'data-label': '最新条目哈希' }, shortHash(o.hash)),
      cells);
  });
  const headTable = h('div', { class: 'table-wrap' }, h('table', { class: 'table compact stack audit-heads' },
    h('caption', { class: 'sr-only', text: '各节点日志：本节点持有的最新条目，及各对等节点报告的最新条目' }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: '日志来源' }),
      h('th', { scope: 'col', text: '本节点持有' }),
      h('th', { scope: 'col', text: '最新条目哈希' }),
      peers.map((p) => h('th', { scope: 'col', text: `${name(p.node)}报告` })))),
    h('tbody', {}, headRows)));

  const peerTable = h('div', { class: 'table-wrap' }, h('table', { class: 'table compact stack' },
    h('caption', { class: 'sr-only', text: '与对等节点的连接' }),
    h('thead', {}, h('tr', {}, ['对等节点', '连接状态', '最后联系', '最近错误'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, peers.map((p) => {
      const [label, kind] = LINK_STATES[p.state] || [p.state, 'muted'];
      return h('tr', { class: p.state === 'up' ? '' : 'audit-off' },
        h('th', { scope: 'row' }, name(p.node), h('span', { class: 'mono muted small', text: ` ${p.node}` })),
        h('td', { 'data-label': '连接状态' }, badge(label, kind)),
        h('td', { 'data-label': '最后联系', text: p.last_contact ? formatTime(p.last_contact) : '—' }),
        h('td', { 'data-label': '最近错误', class: 'small', text: p.last_error || '—' }));
    }))));

  const alertList = alerts.length
    ? h('ul', { class: 'audit-alerts', dataset: { testid: 'audit-alerts' } }, alerts.map((a) => h('li', {},
      h('strong', { text: ALERTS[a.code] || a.code }),
      h('span', { text: ` · ${name(a.origin)}（${a.origin}）${a.seq ? ` 第 ${a.seq} 条` : ''} · ${formatTime(a.at)}` }),
      h('div', { class: 'mono small', text: a.message }))))
    : h('p', { class: 'muted', dataset: { testid: 'audit-alerts' }, text: '没有告警。' });

  // what is on its way between nodes: hand-offs of applications, region transfers
  const ho = st.handoffs || { incoming: [], outgoing: [] };
  const moving = [
    ...(ho.outgoing || []).map((x) => ['申请书转出', x.application, `转至 ${name(x.to)}（第 ${x.revision} 版）`, x.since]),
    ...(ho.incoming || []).map((x) => ['申请书转入', x.application, `来自 ${name(x.from)}，已尝试 ${x.tries} 次`, x.since]),
    ...(st.transfers || []).map((x) => ['评审区域变更', x.account,
      `${name(x.from)} → ${name(x.to)} · ${TRANSFER_STATES[x.status] || x.status}`, x.since]),
  ];
  const movingView = moving.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'table compact stack', dataset: { testid: 'audit-moving' } },
      h('caption', { class: 'sr-only', text: '节点之间进行中的申请书转交和评审区域变更' }),
      h('thead', {}, h('tr', {}, ['类别', '编号', '情况', '开始时间'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, moving.map(([kind, id, what, since]) => h('tr', {},
        h('th', { scope: 'row', text: kind }),
        h('td', { 'data-label': '编号', class: 'mono small', text: id }),
        h('td', { 'data-label': '情况', text: what }),
        h('td', { 'data-label': '开始时间', text: formatTime(since) }))))))
    : h('p', { class: 'muted', dataset: { testid: 'audit-moving' }, text: '没有进行中的转交或评审区域变更。' });

  const writerBad = !st.log || writer.refused || !!writer.last_error;
  const writerLine = h('p', { class: writerBad ? 'notice warn' : 'muted small' },
    !st.log ? '本节点未运行签名日志（未加载联邦清单）。'
      : writer.refused ? `本节点日志已停止写入：${writer.last_error || ''}`
        : `本节点日志：已写入 ${(st.outbox || {}).logged ?? 0} 条，待写入 ${(st.outbox || {}).built ?? 0} 条`
          + (writer.last_error ? `；最近错误：${writer.last_error}` : ''));

  const down = peers.filter((p) => p.state !== 'up').length;
  const bad = alerts.length > 0 || down > 0 || lagging > 0 || writerBad;
  const parts = [];
  if (alerts.length) parts.push(`${alerts.length} 条告警`);
  if (down) parts.push(`${down} 个对等节点未连接`);
  if (lagging) parts.push(`${lagging} 处不一致或落后`);
  if (writerBad) parts.push('本节点日志异常');
  const summary = bad ? `需要关注：${parts.join('，')}。` : `同步正常：${peers.length} 个对等节点均已连接，各日志一致，没有告警。`;

  return {
    bad,
    summary,
    el: h('div', {},
      writerLine,
      h('h3', { text: '各节点日志' }), headTable,
      h('h3', { text: '对等节点' }), peers.length ? peerTable : h('p', { class: 'muted', text: '没有对等节点。' }),
      h('h3', { text: '告警' }), alertList,
      h('h3', { text: '进行中的转交' }), movingView),
  };
}

// ---------- the log browser ----------

function logBrowser(query, status) {
  const ids = { origin: 'audit-origin', type: 'audit-type', account: 'audit-account', application: 'audit-application' };
  const origin = h('select', { id: ids.origin, name: 'origin' }, h('option', { value: '', text: '全部节点' }));
  const type = h('select', { id: ids.type, name: 'type' }, h('option', { value: '', text: '全部类型' }),
    Object.entries(ENTRY_TYPES).map(([v, t]) => h('option', { value: v, text: t })));
  const account = h('input', { id: ids.account, name: 'account', type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: '账号编号或用户名' });
  const application = h('input', { id: ids.application, name: 'application', type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: '申请书编号' });
  const controls = { origin, type, account, application };
  // the address may name an origin before the choices have loaded
  if (query.get('origin')) fillOrigins(origin, [{ origin: query.get('origin') }]);
  for (const [k, c] of Object.entries(controls)) c.value = query.get(k) || '';

  const fieldOf = (label, c) => h('div', { class: 'audit-field' }, h('label', { for: c.id, text: label }), c);
  const find = h('button', { type: 'submit', class: 'btn primary', text: '查询' });
  const reset = h('button', { type: 'button', class: 'btn', text: '清除条件' });
  const form = h('form', { class: 'audit-filters', role: 'search', 'aria-label': '日志筛选', novalidate: true },
    fieldOf('节点', origin), fieldOf('条目类型', type), fieldOf('账号', account), fieldOf('申请书', application),
    h('div', { class: 'audit-field audit-buttons' }, find, reset));

  const results = h('div', { 'aria-live': 'polite', 'aria-busy': 'false', dataset: { testid: 'audit-entries' } });
  const prev = h('button', { type: 'button', class: 'btn small', text: '上一页' });
  const next = h('button', { type: 'button', class: 'btn small', text: '下一页' });
  const pageNo = h('span', { class: 'muted small' });
  const pager = h('nav', { class: 'audit-pager', 'aria-label': '日志分页' }, prev, pageNo, next);

  let cursors = [null]; // cursors[i]: where page i starts
  let nextCursor = null;

  const filters = () => {
    const q = new URLSearchParams();
    for (const [k, c] of Object.entries(controls)) if (c.value.trim()) q.set(k, c.value.trim());
    return q;
  };

  async function load() {
    const q = filters();
    q.set('limit', String(PAGE_SIZE));
    const cursor = cursors[cursors.length - 1];
    if (cursor) q.set('cursor', cursor);
    results.setAttribute('aria-busy', 'true');
    const res = await get('/fed/entries?' + q);
    results.setAttribute('aria-busy', 'false');
    fillOrigins(origin, res.status === 200 ? res.body.heads : status.heads);
    if (res.status !== 200) {
      const err = res.body && res.body.error;
      const c = err && controls[err.field];
      clear(results, errorPanel(err));
      if (c) c.setAttribute('aria-invalid', 'true');
      pager.hidden = true;
      return;
    }
    for (const c of Object.values(controls)) c.removeAttribute('aria-invalid');
    nextCursor = res.body.next;
    const names = Object.fromEntries((res.body.heads || []).map((o) => [o.origin, o.name]));
    clear(results, entryTable(res.body.items || [], names));
    prev.disabled = cursors.length === 1;
    next.disabled = !nextCursor;
    pager.hidden = cursors.length === 1 && !nextCursor;
    pageNo.textContent = `第 ${cursors.length} 页`;
  }

  const restart = () => {
    // keep the filters in the address without re-running the router
    const q = filters().toString();
    history.replaceState(null, '', '#/audit' + (q ? '?' + q : ''));
    cursors = [null];
    return load();
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    restart();
  });
  origin.addEventListener('change', restart);
  type.addEventListener('change', restart);
  reset.addEventListener('click', () => {
    for (const c of Object.values(controls)) c.value = '';
    restart();
  });
  next.addEventListener('click', () => {
    if (!nextCursor) return;
    cursors.push(nextCursor);
    load();
  });
  prev.addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop();
    load();
  });

  return {
    load,
    el: h('section', { class: 'card', 'aria-labelledby': 'audit-log-title' },
      h('h2', { id: 'audit-log-title', text: '日志浏览' }),
      h('p', { class: 'muted small', text: '按节点排列，每个节点最新的条目在前。每条条目在显示时都按联邦清单中该节点当时有效的密钥重新验证签名，并核对与前一条的链接。条目中不含个人信息。' }),
      form, results, pager),
  };
}

// The origin choices: every origin this node holds, the chosen one kept.
function fillOrigins(select, heads) {
  const chosen = select.value;
  for (const o of heads || []) {
    const text = refName(o) ? `${refName(o)}（${o.origin}）` : o.origin;
    const have = [...select.options].find((x) => x.value === o.origin);
    if (have) have.textContent = text;
    else select.append(h('option', { value: o.origin, text }));
  }
  select.value = chosen;
}

function verificationBadge(e) {
  if (e.verification === 'verified') return badge('✓ 已验证', 'ok', { dataset: { testid: 'verified' } });
  return badge('✗ ' + problemName(e.verification), 'danger', { dataset: { testid: 'problem' }, title: problemText(e.verification) });
}

function entryTable(items, names) {
  if (!items.length) return h('p', { class: 'empty', text: '没有符合条件的日志条目。' });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table stack audit-entries' },
    h('caption', { class: 'sr-only', text: '日志条目' }),
    h('thead', {}, h('tr', {}, ['节点', '序号', '类型', '时间', '本节点应用', '验证', '内容'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, items.map((e) => entryRow(e, names[e.origin])))));
}

function entryRow(e, originName) {
  const bad = e.verification !== 'verified';
  return h('tr', { class: bad ? 'audit-bad' : '', dataset: { origin: e.origin, seq: String(e.seq) } },
    h('td', { 'data-label': '节点' }, originName || e.origin, h('div', { class: 'mono muted small', text: e.origin })),
    h('td', { 'data-label': '序号', class: 'mono', text: String(e.seq) }),
    h('td', { 'data-label': '类型' }, typeName(e.type), h('div', { class: 'mono muted small', text: e.type })),
    h('td', { 'data-label': '时间', text: formatTime(e.ts) }),
    h('td', { 'data-label': '本节点应用', text: e.own ? '本节点条目' : e.applied ? '已应用' : '未应用' }),
    h('td', { 'data-label': '验证' }, verificationBadge(e),
      bad ? h('div', { class: 'small audit-why', text: (PROBLEMS[e.verification] || [])[1] || e.verification }) : null,
      bad && e.problems.length > 1 ? h('div', { class: 'small', text: `共 ${e.problems.length} 项问题，见内容` }) : null),
    h('td', { 'data-label': '内容' }, entryDetails(e)));
}

function entryDetails(e) {
  return h('details', { class: 'audit-details' },
    h('summary', { text: '查看内容' }),
    h('dl', { class: 'kv small' },
      [['签名密钥', e.key], ['条目哈希', e.hash], ['前一条哈希', e.prev || '（首条）'], ['接收时间', formatTime(e.received_at)],
        ['应用时间', e.applied_at ? formatTime(e.applied_at) : '—']]
        .map(([k, v]) => [h('dt', { text: k }), h('dd', { class: 'mono', text: v || '—' })])),
    e.problems.length ? h('ul', { class: 'audit-problems' }, e.problems.map((p) => h('li', {},
      h('strong', { text: problemText(p.code) }), h('div', { class: 'mono small', text: p.detail })))) : null,
    // the entry's body as signed: data, never translated
    h('pre', { class: 'audit-body mono small', translate: 'no', text: JSON.stringify(e.body, null, 2) }));
}
