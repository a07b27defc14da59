import { renderSinkPage } from './sink-page';

describe('renderSinkPage', () => {
  it('shows messages newest first, escaped, with JANDI bold and the colour bar', () => {
    const html = renderSinkPage([
      { path: '/hook', at: 0, body: 'first' },
      {
        path: '/hook',
        at: 1000,
        body: '**발행완료** <script>',
        connectColor: '#2EB67D',
        connectInfo: [{ title: '공급자', description: 'A & B' }],
      },
    ]);
    expect(html.indexOf('발행완료')).toBeLessThan(html.indexOf('first'));
    expect(html).toContain('<strong>발행완료</strong> &lt;script&gt;');
    expect(html).toContain('<dd>A &amp; B</dd>');
    expect(html).toContain('border-left-color:#2EB67D');
    expect(html).not.toContain('<script>');
  });

  it('says what to do when nothing arrived', () => {
    expect(renderSinkPage([])).toContain('Nothing yet');
  });
});
