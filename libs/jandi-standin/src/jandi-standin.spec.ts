import { JandiStandin } from './jandi-standin';

const HEADERS = {
  Accept: 'application/vnd.tosslab.jandi-v2+json',
  'Content-Type': 'application/json',
};

describe('JandiStandin', () => {
  const standin = new JandiStandin({ windows: [{ count: 2, windowMs: 300 }] });
  const post = (path: string, body: unknown, headers: Record<string, string> = HEADERS) =>
    fetch(standin.url(path), { method: 'POST', headers, body: JSON.stringify(body) }).then(
      async (res) => ({ status: res.status, json: (await res.json()) as { code?: number } }),
    );

  beforeAll(() => standin.listen());
  afterEach(() => standin.reset());
  afterAll(() => standin.close());

  it('accepts a well-formed message and records it', async () => {
    const message = {
      body: 'hi',
      connectColor: '#FAC11B',
      connectInfo: [{ title: 'a', description: 'b' }],
    };
    expect(await post('/hook/1', message)).toEqual({ status: 200, json: {} });
    expect(standin.acceptedFor('/hook/1')).toEqual([
      expect.objectContaining({ ...message, path: '/hook/1' }),
    ]);
  });

  it('answers 40000 to missing headers, bad shapes and other methods', async () => {
    expect(
      await post('/hook/2', { body: 'x' }, { 'Content-Type': 'application/json' }),
    ).toMatchObject({
      status: 400,
      json: { code: 40000 },
    });
    expect(await post('/hook/2', { text: 'x' })).toMatchObject({
      status: 400,
      json: { code: 40000 },
    });
    expect(await post('/hook/3', { body: 'x', connectColor: 'red' })).toMatchObject({
      status: 400,
    });
    expect((await fetch(standin.url('/hook/4'))).status).toBe(400);
    expect(standin.accepted).toHaveLength(0);
  });

  it('refuses requests over 256 KB without creating a message', async () => {
    expect(await post('/hook/5', { body: 'x'.repeat(270_000) })).toMatchObject({
      status: 413,
      json: { code: 40000 },
    });
    expect(standin.accepted).toHaveLength(0);
  });

  it('enforces per-URL sliding windows with 429 code 42900', async () => {
    expect((await post('/hook/6', { body: '1' })).status).toBe(200);
    expect((await post('/hook/6', { body: '2' })).status).toBe(200);
    expect(await post('/hook/6', { body: '3' })).toMatchObject({
      status: 429,
      json: { code: 42900 },
    });
    expect((await post('/hook/7', { body: 'other webhook' })).status).toBe(200);
  });

  it('plays programmed failures', async () => {
    standin.setMode('/hook/8', 'server-error');
    expect((await post('/hook/8', { body: 'x' })).status).toBe(503);
    standin.setMode('/hook/9', 'invalid-token');
    expect(await post('/hook/9', { body: 'x' })).toMatchObject({
      status: 400,
      json: { code: 40000 },
    });
    standin.setMode('/hook/10', 'hang');
    await expect(
      fetch(standin.url('/hook/10'), {
        method: 'POST',
        headers: HEADERS,
        body: '{"body":"x"}',
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
  });
});
