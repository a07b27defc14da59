import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the stand-in answers one webhook path. */
export type StandinMode =
  | 'ok'
  | 'server-error'
  | 'hang'
  | 'invalid-token'
  /** 200 with {code: 40000} or {code: 42900} in the body: nothing posted despite the status. */
  | 'ok-with-invalid-token'
  | 'ok-with-rate-limit';

export interface StandinWindow {
  count: number;
  windowMs: number;
}

export interface StandinOptions {
  /** Per-webhook sliding windows; JANDI's are 60/1 min and 500/10 min. */
  windows?: StandinWindow[];
  /** Largest accepted request body; JANDI's is 256 KB. */
  maxBodyBytes?: number;
  /** Answers GET requests (a page of what arrived); without it GET is refused, as JANDI does. */
  viewer?: (
    req: IncomingMessage,
    res: ServerResponse,
    accepted: readonly AcceptedMessage[],
  ) => void;
}

/** Test hooks around one POST, awaited in this order; each gets the webhook path. */
export interface StandinHooks {
  /** Before the request is counted: a JANDI whose front door holds requests before counting them. */
  beforeCount?: (path: string) => Promise<void> | void;
  /** After it is counted, before it is answered: the client waits for its answer meanwhile. */
  beforeAnswer?: (path: string) => Promise<void> | void;
  /** Once the answer is written; gets the request body too (traces name what was sent). */
  afterAnswer?: (path: string, body: string) => void;
}

export interface AcceptedMessage {
  path: string;
  /** Date.now() at arrival: the same system clock Redis TIME reads. */
  at: number;
  body: string;
  connectColor?: string;
  connectInfo?: { title: string; description: string; imageUrl?: string }[];
}

export interface StandinRequest {
  path: string;
  at: number;
  status: number;
}

const JANDI_ACCEPT = 'application/vnd.tosslab.jandi-v2+json';
export const JANDI_WINDOWS: StandinWindow[] = [
  { count: 60, windowMs: 60_000 },
  { count: 500, windowMs: 600_000 },
];

/**
 * A local JANDI incoming-webhook endpoint that enforces the documented behaviour: POST only,
 * both headers, the body shape, 256 KB, per-URL sliding windows answering 429 {code: 42900},
 * and 400 {code: 40000} for bad requests. Any path is a webhook; modes can be set per path.
 */
export class JandiStandin {
  private server: Server | null = null;
  private readonly modes = new Map<string, StandinMode>();
  private readonly arrivals = new Map<string, number[]>();
  private readonly hanging = new Set<ServerResponse>();
  readonly accepted: AcceptedMessage[] = [];
  readonly requests: StandinRequest[] = [];
  private windows: StandinWindow[];
  private readonly maxBodyBytes: number;
  private readonly viewer: StandinOptions['viewer'];
  private hooks: StandinHooks = {};

  constructor(options: StandinOptions = {}) {
    this.windows = options.windows ?? JANDI_WINDOWS;
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
    this.viewer = options.viewer;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server?.listen(port, host, resolve));
    return this.url('').replace(/\/$/, '');
  }

  /** Base URL + path, e.g. url('/connect-api/webhook/1/abc'). */
  url(path: string): string {
    const { port } = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}`;
  }

  setMode(path: string, mode: StandinMode): void {
    this.modes.set(path, mode);
  }

  setWindows(windows: StandinWindow[]): void {
    this.windows = windows;
  }

  setHooks(hooks: StandinHooks): void {
    this.hooks = hooks;
  }

  acceptedFor(path: string): AcceptedMessage[] {
    return this.accepted.filter((m) => m.path === path);
  }

  count(path: string, status: number): number {
    return this.requests.filter((r) => r.path === path && r.status === status).length;
  }

  reset(): void {
    this.accepted.length = 0;
    this.requests.length = 0;
    this.arrivals.clear();
    this.modes.clear();
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' && this.viewer) return this.viewer(req, res, this.accepted);
    const path = (req.url ?? '/').split('?')[0];
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => void this.answer(req, res, path, chunks, tooLarge));
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    chunks: Buffer[],
    tooLarge: boolean,
  ): Promise<void> {
    const hooks = this.hooks;
    if (req.method === 'POST') await hooks.beforeCount?.(path);
    const at = Date.now();
    const answer = (status: number, body: object) => {
      this.requests.push({ path, at, status });
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      hooks.afterAnswer?.(path, Buffer.concat(chunks).toString('utf8'));
    };
    if (req.method !== 'POST') return answer(400, { code: 40000, msg: 'POST only' });

    // Requests answered 429 do not count, so a client that backs off regains its quota.
    const windows = this.windows;
    const times = this.arrivals.get(path) ?? [];
    const widest = Math.max(...windows.map((w) => w.windowMs));
    while (times.length > 0 && times[0] <= at - widest) times.shift();
    const over = windows.some((w) => times.filter((t) => t > at - w.windowMs).length >= w.count);
    if (over) return answer(429, { code: 42900, msg: 'Too many requests' });
    times.push(at);
    this.arrivals.set(path, times);
    await hooks.beforeAnswer?.(path);

    const mode = this.modes.get(path) ?? 'ok';
    if (mode === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (mode === 'server-error') return answer(503, { msg: 'unavailable' });
    if (mode === 'invalid-token') return answer(400, { code: 40000, msg: 'invalid webhook token' });
    if (mode === 'ok-with-invalid-token')
      return answer(200, { code: 40000, msg: 'invalid webhook token' });
    if (mode === 'ok-with-rate-limit')
      return answer(200, { code: 42900, msg: 'Too many requests' });
    if (
      req.headers.accept !== JANDI_ACCEPT ||
      !req.headers['content-type']?.startsWith('application/json')
    ) {
      return answer(400, { code: 40000, msg: 'missing Accept or Content-Type header' });
    }
    if (tooLarge) return answer(413, { code: 40000, msg: 'request too large' });
    let message: AcceptedMessage;
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (!isMessage(parsed)) throw new Error('shape');
      message = { path, at, ...parsed } as AcceptedMessage;
    } catch {
      return answer(400, { code: 40000, msg: 'malformed request data' });
    }
    this.accepted.push(message);
    answer(200, {});
  }
}

function isMessage(value: Record<string, unknown>): boolean {
  if (typeof value.body !== 'string') return false;
  if (value.connectColor !== undefined && !/^#[0-9A-Fa-f]{6}$/.test(String(value.connectColor)))
    return false;
  if (value.connectInfo === undefined) return true;
  return (
    Array.isArray(value.connectInfo) &&
    value.connectInfo.every(
      (entry: unknown) =>
        typeof entry === 'object' &&
        entry !== null &&
        typeof (entry as { title?: unknown }).title === 'string' &&
        typeof (entry as { description?: unknown }).description === 'string',
    )
  );
}
