// fields.js - field definitions used by more than one form.

export const PASSWORD_RULE = '密码至少8位，且须包含大写字母、小写字母、数字、特殊符号中的至少三类';

// A new password and its confirmation. name: the field the server knows ("password"/"new").
export function newPasswordFields(name = 'password', label = '密码') {
  return [
    { name, label, type: 'password', required: true, hint: PASSWORD_RULE, autocomplete: 'new-password' },
    {
      name: 'confirm', label: '确认密码', type: 'password', required: true, autocomplete: 'new-password',
      validate: (v, all) => (v !== all[name] ? '两次输入的密码不一致。' : undefined),
    },
  ];
}

export const phoneField = (label = '手机号', value) => ({
  name: 'phone', label, type: 'tel', required: true, inputmode: 'tel', maxlength: 20, autocomplete: 'tel', value,
});

export const MAX_FILE = 2 * 1024 * 1024;
export const FILE_TYPES = ['image/jpeg', 'image/png', 'application/pdf'];
// image/* lets a phone offer its camera beside the photo library and files (a capture
// attribute would offer the camera alone: no scan already on the phone, no PDF);
// checkFile still allows JPEG, PNG and PDF only.
export const FILE_ACCEPT = 'image/*,application/pdf';

export function formatSize(n) {
  if (n >= 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + ' MiB';
  if (n >= 1024) return (n / 1024).toFixed(1) + ' KiB';
  return n + ' 字节';
}

// Client-side check of an upload: JPEG/PNG/PDF, at most 2 MiB (the server checks again).
export function checkFile(file) {
  if (!file) return '请选择文件。';
  const byName = /\.(jpe?g|png|pdf)$/i.test(file.name || '');
  if (!FILE_TYPES.includes(file.type) && !byName) return '仅支持 JPEG、PNG 或 PDF 格式的文件。';
  if (file.size > MAX_FILE) return `文件大小为 ${formatSize(file.size)}，不能超过 2 MiB。`;
  if (file.size === 0) return '文件为空，请重新选择。';
  return undefined;
}
