// live.js - live updates: while someone is signed in, one WebSocket to /ws (subprotocol
// "zc-live", the session cookie authenticates). Each {"type":"application"} message shows a
// toast and goes to the open page's handler, which re-fetches what it shows. The socket
// reconnects with back-off; after a reconnect the page is told to re-fetch ({type:"resync"}),
// since messages sent meanwhile are lost.
import { state, onChange } from './state.js';
import { toast } from './ui.js';

const REVIEWERS = ['unit_admin', 'dept_admin', 'committee_admin'];
const MAX_DELAY = 30000;

let ws = null;
let who = null;       // the account the socket was opened for
let delay = 1000;
let timer = null;
let everOpened = false;
let pageHandler = null;
const own = new Map(); // id -> {until, status} of this page's own action (no toast for its echo)

// The open page's handler for messages; the router clears it on every navigation.
export function livePage(fn) {
  pageHandler = fn || null;
}

// A page reports an action of its own on application id: before the request (status
// unknown: any message on id meanwhile is its echo) and after the answer with the status
// it led to (the echo may also come last).
export function ownAction(id, status = null) {
  if (id) own.set(id, { until: Date.now() + (status ? 3000 : 15000), status });
}

export function startLive() {
  onChange(sync);
  sync();
}

function sync() {
  const id = state.me ? state.me.id : null;
  if (id === who && (ws || timer || !id)) return;
  stop();
  who = id;
  if (id) connect();
}

function stop() {
  clearTimeout(timer);
  timer = null;
  if (ws) {
    const old = ws;
    ws = null;
    old.onclose = null;
    old.close();
  }
  everOpened = false;
  delay = 1000;
  setLiveState('off');
}

function url() {
  return (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + '/ws';
}

function connect() {
  timer = null;
  let sock;
  try {
    sock = new WebSocket(url(), 'zc-live');
  } catch {
    retry();
    return;
  }
  ws = sock;
  sock.onopen = () => {
    delay = 1000;
    setLiveState('open');
    if (everOpened && pageHandler) pageHandler({ type: 'resync' });
    everOpened = true;
  };
  sock.onmessage = (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (msg && msg.type === 'application') received(msg);
  };
  sock.onclose = () => {
    if (ws !== sock) return;
    ws = null;
    setLiveState('off');
    retry();
  };
}

function retry() {
  if (!state.me) return;
  clearTimeout(timer);
  timer = setTimeout(connect, delay + Math.floor(Math.random() * 500));
  delay = Math.min(delay * 2, MAX_DELAY);
}

function setLiveState(s) {
  document.body.dataset.live = s;
}

function received(msg) {
  const o = own.get(msg.id);
  const mine = !!o && Date.now() < o.until && (o.status === null || o.status === msg.status);
  if (!mine) {
    const reviewer = state.me && REVIEWERS.includes(state.me.role);
    if (reviewer && msg.queue) {
      toast('有新的待审核申请书', ['#/review/handle?id=' + encodeURIComponent(msg.id), '办理']);
    } else {
      const href = state.me && state.me.role === 'applicant' ? '#/applications/edit?id=' : '#/review/handle?id=';
      toast(`申请书状态已更新：${msg.status_name || msg.status}`, [href + encodeURIComponent(msg.id), '查看']);
    }
  }
  if (pageHandler) pageHandler(msg);
}
