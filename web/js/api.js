// api.js - the one way the portal talks to the node: JSON in and out under /api/v1.
// Resolves to {status, body} for every answer, 4xx/5xx included; a network failure
// becomes status 0 with an error body shaped like the server's, so callers handle one case.

import { lang, isUyghur, addNames } from './i18n.js';

const BASE = '/api/v1';

// Reference data in an answer ({name, name_ug}, at any depth) teaches the translator.
function learnNames(v, depth = 0) {
  if (!v || typeof v !== 'object' || depth > 6) return;
  if (Array.isArray(v)) {
    if (v.length && v[0] && typeof v[0] === 'object' && 'name_ug' in v[0]) addNames(v);
    for (const x of v) learnNames(x, depth + 1);
    return;
  }
  if ('name_ug' in v) addNames([v]);
  for (const x of Object.values(v)) learnNames(x, depth + 1);
}

// The CSRF token lives in memory only (never in storage): a reload restores it via GET /me.
let csrf = '';

export function setCsrf(token) {
  csrf = token || '';
}

// opts.raw: a Blob/File sent as the body with its own Content-Type (uploads).
// opts.contentType: overrides the raw body's type.
export async function api(method, path, data, opts = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': lang };
  let body;
  if (opts.raw) {
    body = opts.raw;
    headers['Content-Type'] = opts.contentType || opts.raw.type || 'application/octet-stream';
  } else if (data !== undefined) {
    body = JSON.stringify(data);
    headers['Content-Type'] = 'application/json; charset=utf-8';
  }
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;

  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return { status: 0, body: { error: { code: 'network', message: '网络连接失败，请检查网络后重试。' } } };
  }

  const type = res.headers.get('Content-Type') || '';
  let out = null;
  if (type.includes('json')) {
    try {
      out = await res.json();
    } catch {
      out = null;
    }
  } else if (res.status < 400) {
    out = await res.blob(); // files such as GET /me/idcard
  } else {
    await res.text().catch(() => '');
  }
  if (res.status >= 400 && !(out && out.error)) {
    out = { error: { code: 'http_' + res.status, message: fallbackMessage(res.status) } };
  }
  if (out && typeof out.csrf === 'string') setCsrf(out.csrf);
  if (isUyghur && type.includes('json')) learnNames(out);
  return { status: res.status, body: out };
}

function fallbackMessage(status) {
  if (status === 413) return '文件或内容过大。';
  if (status === 429) return '操作过于频繁，请稍后再试。';
  if (status >= 500) return '服务器暂时无法处理请求，请稍后重试。';
  return '请求失败（' + status + '）。';
}

export const get = (path) => api('GET', path);
export const post = (path, data) => api('POST', path, data);
export const put = (path, data) => api('PUT', path, data);
export const del = (path) => api('DELETE', path);
export const upload = (path, file) => api('POST', path, undefined, { raw: file });
