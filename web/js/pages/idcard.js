// idcard.js - the ID-card scans of an applicant: front (人像面) and back (国徽面), each with
// a preview and its own upload form. Used at registration and on 我的主页.
import { api, upload } from '../api.js';
import { h, clear, createForm, showFile } from '../ui.js';
import { FILE_ACCEPT, checkFile, formatSize } from './fields.js';

const SIDES = [
  { side: 'front', label: '身份证人像面' },
  { side: 'back', label: '身份证国徽面' },
];

const TYPE_NAMES = { 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'application/pdf': 'PDF' };

// have: {front: bool, back: bool}; onUploaded(side) after each success.
export function idcardPanel(have = {}, onUploaded) {
  return h('div', { class: 'idcard-grid' }, SIDES.map((s) => sideCard(s, !!have[s.side], onUploaded)));
}

function sideCard({ side, label }, uploaded, onUploaded) {
  const preview = h('div', { class: 'idcard-preview', 'aria-live': 'polite' });
  const state = h('span', { class: 'badge ' + (uploaded ? 'ok' : 'warn'), text: uploaded ? '已上传' : '未上传' });

  const form = createForm({
    className: 'compact',
    submitText: uploaded ? '重新上传' : '上传',
    fallbackField: side, // upload errors (too_large, unsupported_type) belong next to the input
    fields: [{
      name: side, label: `选择${label}文件`, type: 'file', accept: FILE_ACCEPT, required: true,
      hint: '支持 JPEG、PNG、PDF 格式，不超过 2 MiB', validate: checkFile,
    }],
    async onSubmit(v) {
      const res = await upload('/me/idcard?side=' + side, v[side]);
      if (res.status === 201 || res.status === 200) {
        const b = res.body || {};
        state.className = 'badge ok';
        state.textContent = '已上传';
        form.submit.textContent = '重新上传';
        form.setStatus(`上传成功（${TYPE_NAMES[b.type] || b.type || ''}，${formatSize(b.size || v[side].size)}）。`);
        form.input(side).value = '';
        loadPreview(preview, side, label);
        if (onUploaded) onUploaded(side);
      }
      return res;
    },
  });

  if (uploaded) loadPreview(preview, side, label);
  else clear(preview, h('span', { class: 'muted', text: '尚未上传' }));

  return h('section', { class: 'idcard-side', dataset: { side } },
    h('div', { class: 'idcard-head' }, h('h3', { text: label }), state),
    preview,
    form.el);
}

async function loadPreview(box, side, label) {
  clear(box, h('span', { class: 'muted', text: '加载中…' }));
  const res = await api('GET', '/me/idcard?side=' + side);
  if (res.status !== 200 || !(res.body instanceof Blob)) {
    clear(box, h('span', { class: 'muted', text: '暂无法预览' }));
    return;
  }
  showFile(box, res.body, { alt: label, pdfText: `查看${label}（PDF）` });
}
