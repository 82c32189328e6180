// verify.js - 评审表验证: anyone checks a review form's verification code (the QR code on the
// official form opens this page with ?code=); any node of the federation answers.
import { get } from '../api.js';
import { h, createForm, pageHeader, dl, formatTime, errorPanel } from '../ui.js';

const enc = encodeURIComponent;

function resultCard(v) {
  return h('section', { class: 'card verify-result', dataset: { testid: 'verify-result' }, 'aria-live': 'polite' },
    h('h2', { text: '验证通过：这是一份真实的评审表' }),
    dl([
      ['评审表编号', h('span', { class: 'code', text: v.number })],
      ['验证码', h('span', { class: 'code', text: v.code })],
      ['申请人', v.applicant],
      ['资格名称', v.qualification_name],
      ['评审委员会', v.committee_name],
      ['签发节点', `${v.node_name || ''}（${v.node}）`],
      ['签发时间', formatTime(v.issued)],
      ['内容摘要（SHA-256）', h('span', { class: 'code digest', text: v.digest })],
    ]),
    h('p', { class: 'hint', text: '请核对纸质评审表上的编号、申请人与资格名称是否与上面一致。签名由签发节点的密钥生成，全区任一节点均可核验。' }));
}

export async function verifyPage({ query }) {
  const out = h('div', { class: 'verify-out' });
  async function check(code) {
    out.replaceChildren();
    const res = await get('/verify/' + enc(code.trim()));
    if (res.status === 200) out.append(resultCard(res.body.verify));
    return res;
  }
  const form = createForm({
    submitText: '验证',
    fields: [{ name: 'code', label: '验证码', required: true, value: query.get('code') || '',
      hint: '评审表二维码下方的16位验证码，字母不分大小写，可省略横线' }],
    onSubmit: (v) => check(v.code),
  });
  // opened from the form's QR code: checked at once
  if (query.get('code')) {
    const res = await check(query.get('code'));
    if (res.status !== 200) out.append(errorPanel(res.body && res.body.error));
  }
  return h('div', { class: 'narrow' },
    pageHeader('评审表验证', '核验评审表的真伪：输入验证码或用手机扫描评审表上的二维码'),
    h('div', { class: 'card' }, form.el), out);
}
