// i18n.js - the portal in Chinese (zh-CN, as the pages are written) or in Uyghur (ug,
// Arabic script, right to left). The pages build their text in Chinese; in Uyghur one
// translator rewrites what they show: every text node and the attributes people read
// (placeholder, title, aria-label, alt) whose text web/i18n/ug.json translates, whole or
// by one of its patterns ("已提交 {0} 次" with the values kept), as they are added to the
// page (a MutationObserver), so no page needs code of its own. Text inside
// [translate="no"] (names, numbers people typed) is left alone. Reference-data names
// (regions, series, specialties, qualifications, committees, recommending units) come with
// their Uyghur names from the API (name_ug, node_name_ug, ...): pages show them through
// refName, and they join the dictionary as they arrive for the text that names them.
//
// The choice is remembered per browser (localStorage) and, once logged in, per account
// (PUT /me/language); requests say it in Accept-Language so that errors come back in it.

const KEY = 'zc-lang';
export const LANGS = [['zh-CN', '中文'], ['ug', 'ئۇيغۇرچە']];
const ATTRS = ['placeholder', 'title', 'aria-label', 'alt'];
const CJK = /[\u3400-\u9fff]/;

function initialLang() {
  let saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch { /* storage blocked: the default */ }
  if (saved === 'ug' || saved === 'zh-CN') return saved;
  return /^ug\b/i.test(navigator.language || '') ? 'ug' : 'zh-CN';
}

export const lang = initialLang();
export const isUyghur = lang === 'ug';

const words = new Map();  // exact Chinese text -> Uyghur
let patterns = [];        // [{re, out}] from keys with {0}, {1}, ...

function compile(key, out) {
  const parts = key.split(/\{(\d)\}/);
  let src = '^';
  for (let i = 0; i < parts.length; i++) {
    src += i % 2 ? '(.+?)' : parts[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const order = [...key.matchAll(/\{(\d)\}/g)].map((m) => Number(m[1]));
  return { re: new RegExp(src + '$', 's'), order, out };
}

// Add translations: {chinese: uyghur}; keys with {0}... are patterns.
export function addWords(map) {
  for (const [zh, ug] of Object.entries(map || {})) {
    if (!ug || zh.startsWith('_')) continue;
    if (/\{\d\}/.test(zh)) patterns.push(compile(zh, ug));
    else words.set(zh, ug);
  }
  patterns.sort((a, b) => b.re.source.length - a.re.source.length); // the most specific first
}

// Reference data with Uyghur names: [{name, name_ug}] (also full_name / full_name_ug).
export function addNames(items) {
  const map = {};
  for (const x of items || []) {
    if (x && x.name && x.name_ug) map[x.name] = x.name_ug;
    if (x && x.full_name && x.full_name_ug) map[x.full_name] = x.full_name_ug;
  }
  addWords(map);
}

// A reference object's name in the interface language: o[key + "_ug"] in Uyghur when the
// node serves one, else o[key] (e.g. refName(c), refName(c, 'node_name')).
export function refName(o, key = 'name') {
  if (!o) return '';
  return (isUyghur && o[key + '_ug']) || o[key] || '';
}

// Items listed in a sentence ("副高级、正高级"), and a label before its text ("工程系列：…").
export const listText = (items) => items.join(isUyghur ? '، ' : '、');
export const labelText = (label, text) => label + (isUyghur ? ': ' : '：') + text;

const EDGES = /^([\s→←·:：*]*)(.*?)([\s→←·:：*]*)$/s;

// One text: whole, clause by clause ("；" apart, when each is known), by a pattern, without
// the marks around it (" →", "："), or word by word.
function translate(core) {
  const hit = words.get(core);
  if (hit !== undefined) return hit;
  if (core.includes('；')) {
    const parts = core.split('；');
    const out = parts.map((x) => (x ? translate(x) : x));
    if (out.every((x) => !CJK.test(x))) return out.join('؛ ');
  }
  for (const p of patterns) {
    const m = p.re.exec(core);
    if (!m) continue;
    return p.out.replace(/\{(\d)\}/g, (_, d) => {
      const v = m[1 + p.order.indexOf(Number(d))];
      return v === undefined ? '' : translate(v);
    });
  }
  const [, lead, mid, tail] = EDGES.exec(core);
  const mirror = (x) => x.replace(/→/g, '←').replace(/：/g, ':'); // arrows point the way the text reads
  if ((lead || tail) && mid && words.has(mid)) return mirror(lead) + words.get(mid) + mirror(tail);
  if (/\s/.test(core)) {
    const parts = core.split(/(\s+)/);
    const out = parts.map((x) => (CJK.test(x) && words.has(x) ? words.get(x) : x));
    if (out.some((x, i) => x !== parts[i])) return out.join('');
  }
  return core;
}

// Chinese text s in the current language (as it is when there is no translation).
export function t(s) {
  if (!isUyghur || !s || !CJK.test(s)) return s;
  const core = s.trim();
  const out = translate(core);
  return out === core ? s : s.replace(core, out);
}

function skip(el) {
  return el && el.closest && el.closest('[translate="no"], script, style, textarea');
}

function translateText(node) {
  const v = node.nodeValue;
  if (!v || !CJK.test(v) || skip(node.parentElement)) return;
  const out = t(v);
  if (out !== v) node.nodeValue = out;
}

function translateAttrs(el) {
  if (skip(el)) return;
  for (const a of ATTRS) {
    const v = el.getAttribute(a);
    if (v && CJK.test(v)) {
      const out = t(v);
      if (out !== v) el.setAttribute(a, out);
    }
  }
  if (el.tagName === 'INPUT' && (el.type === 'button' || el.type === 'submit') && CJK.test(el.value)) el.value = t(el.value);
}

export function translateTree(root) {
  if (!isUyghur || !root) return;
  if (root.nodeType === Node.TEXT_NODE) return translateText(root);
  if (root.nodeType !== Node.ELEMENT_NODE) return;
  translateAttrs(root);
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (n.nodeType === Node.TEXT_NODE) translateText(n);
    else translateAttrs(n);
  }
}

// Set <html lang dir>, load the dictionary and translate the page from now on.
export async function startI18n() {
  const html = document.documentElement;
  html.lang = lang;
  html.dir = isUyghur ? 'rtl' : 'ltr';
  if (!isUyghur) return;
  try {
    const res = await fetch(new URL('../i18n/ug.json', import.meta.url)); // content-hashed by the build
    if (res.ok) addWords(await res.json());
  } catch { /* no dictionary: the page stays in Chinese */ }
  translateTree(html);
  new MutationObserver((list) => {
    for (const m of list) {
      if (m.type === 'characterData') translateText(m.target);
      else if (m.type === 'attributes') translateAttrs(m.target);
      else m.addedNodes.forEach(translateTree);
    }
  }).observe(html, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRS });
}

// Switch: remembered here (and by the caller for the account), then the page is rebuilt.
export function chooseLang(l) {
  try { window.localStorage.setItem(KEY, l); } catch { /* kept for this page only */ }
  if (l !== lang) window.location.reload();
}

// The header's switch; onChoose(l) runs before the reload (e.g. PUT /me/language).
export function langSwitch(onChoose) {
  const sel = document.createElement('select');
  sel.id = 'lang-select';
  sel.setAttribute('translate', 'no');
  for (const [code, name] of LANGS) {
    const o = document.createElement('option');
    o.value = code;
    o.lang = code;
    o.textContent = name;
    o.selected = code === lang;
    sel.append(o);
  }
  sel.addEventListener('change', async () => {
    await onChoose(sel.value);
    chooseLang(sel.value);
  });
  return sel;
}
