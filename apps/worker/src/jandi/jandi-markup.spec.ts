import { plainText } from './jandi-markup';

describe('plainText', () => {
  it.each([
    [
      '[[계좌 변경 안내]](https://evil.example/pay)',
      '［［계좌 변경 안내]］(https:／／evil.example/pay)',
    ],
    ['[안내](http://evil.example)', '[안내］(http:／／evil.example)'],
    ['![logo](https://evil.example/a.png)', '!［logo］(https:／／evil.example/a.png)'],
    [
      'see https://evil.example and WWW.evil.example',
      'see https:／／evil.example and WWW．evil.example',
    ],
    ['line\nbreak\r\tand\u0000nul', 'line break  and nul'],
    ['abc\u202edcba\u2066', 'abcdcba'],
  ])('neutralises %j', (input, expected) => {
    expect(plainText(input)).toBe(expected);
  });

  it('leaves ordinary text, keys, amounts and JSON arrays as they are', () => {
    for (const text of ['026111009300000001', 'ST-2026_11', '1,234,567원', '[1,2,3]', '(주)팝빌'])
      expect(plainText(text)).toBe(text);
  });
});
