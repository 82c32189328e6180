// region.js - the region (node) drop-down: 自治区 first, then the prefectures. Choosing
// another node opens the same page on that node's portal.
import { state } from './state.js';
import { refName } from './i18n.js';

export function nodeUrl(node, hash) {
  const base = String(node.url || '').replace(/\/+$/, '');
  return base + '/' + (hash || '');
}

export function fillRegionSelect(select) {
  const current = state.node && state.node.node;
  select.replaceChildren();
  const nodes = state.nodes.length ? state.nodes : current ? [{ ...state.node, id: current }] : [];
  for (const n of nodes) {
    const opt = document.createElement('option');
    opt.value = n.id;
    opt.textContent = refName(n);
    opt.setAttribute('translate', 'no');
    opt.dataset.ref = '';
    if (n.id === current) opt.selected = true;
    select.append(opt);
  }
  select.disabled = !nodes.length;
  if (!select.dataset.bound) {
    select.dataset.bound = '1';
    select.addEventListener('change', () => {
      const target = state.nodes.find((n) => n.id === select.value);
      if (!target || target.id === (state.node && state.node.node)) return;
      window.location.assign(nodeUrl(target, window.location.hash));
    });
  }
}
