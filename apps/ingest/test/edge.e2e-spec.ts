import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { freePort, startApp, waitFor } from '../../../test/support/process';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { IngestUnderTest, loadFixtures, startIngest } from './ingest-harness';

const issue = loadFixtures().find((f) => f.name === 'taxinvoice-issue.json')!;

const portOf = (ingest: IngestUnderTest) => Number(new URL(ingest.url).port);

/** POSTs the sample event from a chosen local address; resolves with the status. */
function postFrom(
  ingest: IngestUnderTest,
  localAddress: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: portOf(ingest),
        localAddress,
        path: '/webhooks/popbill',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...issue.headers, ...headers },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(issue.body));
  });
}

interface Outcome {
  /** What the server wrote before the connection closed. */
  received: string;
}

/** Resolves once the server closes the socket, with what it wrote. */
function closed(socket: Socket): Promise<Outcome> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ received }));
  });
}

/** Writes `chunks` one at a time, `everyMs` apart, until they run out or the socket closes. */
function dribble(socket: Socket, chunks: string[], everyMs: number): { sent(): number } {
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent === chunks.length) return clearInterval(timer);
    socket.write(chunks[sent++]);
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
  return { sent: () => sent };
}

const opened = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });

/** One keep-alive request on a raw socket; resolves with the status line once answered. */
function exchange(socket: Socket, path: string, connection: 'keep-alive' | 'close') {
  return new Promise<string>((resolve) => {
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(received.split('\r\n')[0]);
      }
    };
    socket.on('data', onData);
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(received.split('\r\n')[0] ?? ''));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: ${connection}\r\n\r\n`);
  });
}

describe('TRUST_PROXY by address', () => {
  let ingest: IngestUnderTest;
  beforeAll(async () => {
    ingest = await startIngest({
      POPBILL_ALLOWED_IPS: '54.180.62.221',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.2/32',
    });
  });
  afterAll(() => ingest.close());

  it('refuses a spoofed X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const status = await postFrom(ingest, '127.0.0.1', {
      'pb-webhook-mid': 'spoofed-direct',
      'x-forwarded-for': '54.180.62.221',
    });
    expect(status).toBe(403);
    expect(await ingest.jobOf('spoofed-direct')).toBeUndefined();
  });

  it('honours X-Forwarded-For from a trusted proxy address', async () => {
    const status = await postFrom(ingest, '127.0.0.2', {
      'pb-webhook-mid': 'via-trusted-proxy',
      'x-forwarded-for': '54.180.62.221',
    });
    expect(status).toBe(200);
    expect(await ingest.jobOf('via-trusted-proxy')).toBeDefined();
    const refused = await postFrom(ingest, '127.0.0.2', {
      'pb-webhook-mid': 'via-trusted-proxy-other',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(refused).toBe(403);
  });
});

describe('slow clients', () => {
  let ingest: IngestUnderTest;
  beforeAll(async () => {
    ingest = await startIngest({ HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000' });
  });
  afterAll(() => ingest.close());

  it('cuts off a client that dribbles its body, storing nothing', async () => {
    const body = JSON.stringify(issue.body);
    const socket = await opened(portOf(ingest));
    const done = closed(socket);
    const head = Object.entries({ ...issue.headers, 'Pb-Webhook-MID': 'slow-body' })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(
      `POST /webhooks/popbill HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `${head}Content-Length: ${body.length}\r\n\r\n`,
    );
    // One byte every 200 ms would take a minute: far past the test's own timeout.
    const writer = dribble(socket, [...body], 200);
    const { received } = await done;
    expect(writer.sent()).toBeLessThan(body.length);
    expect(received === '' || received.startsWith('HTTP/1.1 408')).toBe(true);
    expect(await ingest.jobOf('slow-body')).toBeUndefined();
  });

  it('closes a client that never finishes its headers', async () => {
    const socket = await opened(portOf(ingest));
    const done = closed(socket);
    socket.write('POST /webhooks/popbill HTTP/1.1\r\nHost: x\r\n');
    const writer = dribble(
      socket,
      Array.from({ length: 1000 }, (_, i) => `X-Slow-${i}: y\r\n`),
      100,
    );
    const { received } = await done;
    expect(writer.sent()).toBeLessThan(1000);
    expect(received === '' || received.startsWith('HTTP/1.1 408')).toBe(true);
  });
});

describe('MAX_CONNECTIONS', () => {
  it('refuses connections beyond the cap and takes new ones once a slot frees', async () => {
    const ingest = await startIngest({ MAX_CONNECTIONS: '2', KEEP_ALIVE_TIMEOUT_MS: '600000' });
    const port = portOf(ingest);
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const socket = await opened(port);
        held.push(socket);
        expect(await exchange(socket, '/health/live', 'keep-alive')).toBe('HTTP/1.1 200 OK');
      }
      const extra = await opened(port).catch(() => null);
      if (extra) {
        held.push(extra);
        expect(await exchange(extra, '/health/live', 'keep-alive')).toBe('');
      }

      held[0].destroy();
      let status = '';
      for (let attempt = 0; attempt < 100 && status !== 'HTTP/1.1 200 OK'; attempt++) {
        const socket = await opened(port).catch(() => null);
        if (!socket) continue;
        status = await exchange(socket, '/health/live', 'close');
        socket.destroy();
        if (status !== 'HTTP/1.1 200 OK') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).toBe('HTTP/1.1 200 OK');
    } finally {
      for (const socket of held) socket.destroy();
      await ingest.close();
    }
  });
});

describe('startup warnings (built app)', () => {
  it('warns when webhooks need no credentials and when a hop count meets an allowlist', async () => {
    const port = await freePort();
    const prefix = uniquePrefix('edge-boot');
    const ingest = await startApp(
      'ingest',
      {
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(port),
        TRUST_PROXY: 'true',
        POPBILL_ALLOWED_IPS: '54.180.62.221',
      },
      `http://127.0.0.1:${port}/health/live`,
    );
    const warnings = () =>
      ingest
        .output()
        .split('\n')
        .filter((line) => line.includes('"level":"warn"'))
        .join('\n');
    try {
      // Log lines are written in batches: wait for the batch that holds them.
      await waitFor(() => warnings().includes('TRUST_PROXY'), 5000, 'startup warnings').catch(
        () => undefined,
      );
      expect(warnings()).toMatch(/without credentials.*POPBILL_BASIC_AUTH/);
      expect(warnings()).toMatch(/TRUST_PROXY.*POPBILL_ALLOWED_IPS/);
    } finally {
      await ingest.stop();
      await deletePrefix(TEST_REDIS_URL, prefix);
    }
  });
});
