// catalog.js - 职称目录: series, their specialties and the qualification at each level.
import { get } from '../api.js';
import { h, pageHeader, errorPanel, refText } from '../ui.js';
import { levelName } from './application-parts.js';

export async function catalogPage() {
  const res = await get('/catalog');
  const head = pageHeader('职称目录', '各职称系列的专业设置及各层级资格名称');
  if (res.status !== 200) return h('div', {}, head, errorPanel(res.body && res.body.error));
  const series = res.body.series || [];

  return h('div', { class: 'catalog' }, head,
    h('nav', { class: 'chips', 'aria-label': '职称系列' },
      series.map((s) => h('a', { class: 'chip', href: '#/catalog', onclick: (ev) => {
        ev.preventDefault();
        document.getElementById('series-' + s.code)?.scrollIntoView({ behavior: 'smooth' });
      } }, refText(s)))),
    series.map((s) => h('section', { class: 'card series', id: 'series-' + s.code },
      h('h2', {}, refText(s), h('span', { class: 'code', text: s.code })),
      h('div', { class: 'series-body' },
        h('div', {},
          h('h3', { text: '专业' }),
          h('ul', { class: 'tags' }, (s.specialties || []).map((sp) => h('li', {}, refText(sp))))),
        h('div', {},
          h('h3', { text: '资格名称' }),
          h('table', { class: 'table compact' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '级别' }), h('th', { scope: 'col', text: '资格名称' }))),
            h('tbody', {}, [...(s.qualifications || [])].sort((a, b) => a.level - b.level).map((q) => h('tr', {},
              h('td', {}, h('span', { class: 'level level-' + q.level, text: levelName(q.level) })),
              h('td', {}, refText(q)))))))))));
}
