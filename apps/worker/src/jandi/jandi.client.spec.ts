import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JandiStandin } from '@app/jandi-standin';
import { freePort } from '../../../../test/support/process';
import { JandiClient, requestFate } from './jandi.client';

const message = { body: '발행 완료', connectColor: '#2ECC71', connectInfo: [] };
const PATH = '/connect-api/webhook/1/client-token';

describe('JandiClient (real sockets)', () => {
  const standin = new JandiStandin();
  const client = new JandiClient();
  let hanging: Server;
  let hangingUrl = '';

  beforeAll(async () => {
    await standin.listen();
    hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hang`;
  });
  afterAll(async () => {
    client.onApplicationShutdown();
    hanging.closeAllConnections();
    await new Promise((resolve) => hanging.close(resolve));
    await standin.close();
  });

  it('posts and reads the answer, reusing its connection', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await client.post(standin.url(PATH), message, performance.now() + 5000);
      expect(response).toMatchObject({ kind: 'http', status: 200 });
      expect(requestFate(response)).toBe('answered');
    }
    expect(standin.acceptedFor(PATH)).toHaveLength(2);
  });

  it('sends nothing once the grant has run out', async () => {
    const before = standin.requests.length;
    const response = await client.post(standin.url(PATH), message, performance.now() - 1);
    expect(response).toEqual({ kind: 'expired' });
    expect(requestFate(response)).toBe('not-sent');
    expect(standin.requests.length).toBe(before);
  });

  it('tells when a request left after its deadline: the process froze between check and write', async () => {
    const sendBy = performance.now() + 5000;
    const now = jest.spyOn(performance, 'now');
    // The budget and the deadline check see time in hand; the clock after the write does not.
    now
      .mockReturnValueOnce(sendBy - 4000)
      .mockReturnValueOnce(sendBy - 1)
      .mockReturnValueOnce(sendBy + 3000);
    const late: number[] = [];
    try {
      const response = await client.post(standin.url(PATH), message, sendBy, undefined, (ms) =>
        late.push(ms),
      );
      expect(response).toMatchObject({ kind: 'http', status: 200 });
    } finally {
      now.mockRestore();
    }
    expect(late).toEqual([3000]);
  });

  it('tells nothing when a request left in time', async () => {
    const late: number[] = [];
    await client.post(standin.url(PATH), message, performance.now() + 5000, undefined, (ms) =>
      late.push(ms),
    );
    expect(late).toEqual([]);
  });

  it('gives up at the grant deadline on a JANDI that never answers: written, fate unknown', async () => {
    const response = await client.post(hangingUrl, message, performance.now() + 300);
    expect(response).toEqual({ kind: 'timeout', written: true });
    expect(requestFate(response)).toBe('unknown');
  });

  it('knows that a refused connection sent nothing', async () => {
    const url = `http://127.0.0.1:${await freePort()}/closed`;
    const response = await client.post(url, message, performance.now() + 5000);
    expect(response).toEqual({ kind: 'network', message: 'ECONNREFUSED', written: false });
    expect(requestFate(response)).toBe('not-sent');
  });

  it('stops at shutdown', async () => {
    const shutdown = new AbortController();
    const pending = client.post(hangingUrl, message, performance.now() + 5000, shutdown.signal);
    setTimeout(() => shutdown.abort(), 100);
    expect(await pending).toMatchObject({ kind: 'aborted' });
  });
});
