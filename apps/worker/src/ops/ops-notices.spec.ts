import { opsNoticeMessage, opsUrlFor } from './ops-notices';

const OPS = 'https://wh.jandi.com/connect-api/webhook/9/ops';

describe('opsUrlFor', () => {
  it('sends notices about other destinations only, never about the OPS channel itself', () => {
    const config = {
      destinations: { default: 'https://x/1', accounting: 'https://x/2', ops: OPS, alias: OPS },
    };
    expect(opsUrlFor(config, 'default')).toBe(OPS);
    expect(opsUrlFor(config, 'accounting')).toBe(OPS);
    expect(opsUrlFor(config, 'ops')).toBeNull();
    // Another name for the same URL is the OPS channel too.
    expect(opsUrlFor(config, 'alias')).toBeNull();
    expect(opsUrlFor({ destinations: { default: 'https://x/1' } }, 'default')).toBeNull();
  });
});

describe('opsNoticeMessage', () => {
  it('says what happened, how many, and how to replay, in Korean', () => {
    const message = opsNoticeMessage('dead_letter', 'accounting', {
      reason: 'JANDI rejected: 40000 invalid webhook token',
      deadLetters: 3,
    });
    expect(message.body).toContain('데드레터');
    expect(message.connectInfo.map((i) => i.title)).toEqual(['무엇', '몇 건', '재처리 방법']);
    expect(message.connectInfo[1].description).toBe('현재 데드레터 3건');
    expect(message.connectInfo[2].description).toContain('npm run replay');
    const failing = opsNoticeMessage('failing', 'accounting', {
      reason: 'timeout',
      deadLetters: 0,
      failingForMs: 600_000,
    });
    expect(failing.connectInfo[0].description).toContain('10분');
  });
});
