// state.js - what the portal knows about this node and the signed-in account.
import { get, setCsrf } from './api.js';

export const ROLE_NAMES = {
  applicant: '申请人',
  unit_admin: '基层单位管理员',
  dept_admin: '推荐单位管理员',
  committee_admin: '评审委员会管理员',
  node_admin: '节点管理员',
  auditor: '审计员',
};

export const REGION_ID = '650000';

export const state = {
  node: null,       // GET /health: {node, name, status}
  nodes: [],        // GET /federation nodes, region first
  me: null,         // GET /me account, or null when signed out
  listeners: new Set(),
};

export function onChange(fn) {
  state.listeners.add(fn);
}

function changed() {
  for (const fn of state.listeners) fn(state);
}

export function setMe(account, csrf) {
  state.me = account || null;
  if (csrf !== undefined) setCsrf(csrf);
  if (!account) setCsrf('');
  changed();
}

// Restore the session (and its CSRF token) from the cookie.
export async function refreshMe() {
  const res = await get('/me');
  if (res.status === 200 && res.body && res.body.account) setMe(res.body.account, res.body.csrf);
  else if (res.status === 401) setMe(null);
  return res;
}

export async function loadNode() {
  const [health, fed] = await Promise.all([get('/health'), get('/federation')]);
  if (health.status === 200) state.node = health.body;
  if (fed.status === 200 && fed.body && Array.isArray(fed.body.nodes)) {
    state.nodes = sortNodes(fed.body.nodes);
    if (!state.node && fed.body.node) {
      const self = state.nodes.find((n) => n.id === fed.body.node);
      state.node = { node: fed.body.node, name: self ? self.name : fed.body.node, name_ug: self && self.name_ug };
    }
  }
  changed();
}

// 自治区 first, then the prefectures in the federation's order.
export function sortNodes(nodes) {
  return [...nodes].sort((a, b) => (a.id === REGION_ID ? -1 : b.id === REGION_ID ? 1 : 0));
}

export function roleName(account) {
  return (account && (account.role_name || ROLE_NAMES[account.role])) || '';
}

export async function logout() {
  const { del } = await import('./api.js');
  const res = await del('/session');
  if (res.status < 400 || res.status === 401) setMe(null);
  return res;
}
