import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { freePort, waitFor } from './process';

/** The Redis the test run uses: test/support/global-setup.ts finds or starts one. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A queue prefix no other test file or run shares; braces keep it Cluster-safe. */
export function uniquePrefix(label: string): string {
  return `{t-${label}-${randomBytes(4).toString('hex')}}`;
}

/** Deletes every key under a prefix, so runs leave nothing behind. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface RedisServerOptions {
  /** maxmemory, e.g. "4mb" (noeviction is always on, as in production). */
  maxmemory?: string;
  /** Port of a loopback master to replicate. */
  replicaOf?: number;
}

/** Answers PING (a port on loopback, or a URL), without retrying. */
export async function answersPing(target: number | string): Promise<boolean> {
  const options = {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  };
  const probe =
    typeof target === 'number'
      ? new Redis(target, '127.0.0.1', options)
      : new Redis(target, options);
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * A private redis-server on a free loopback port, for tests that stop and restart Redis.
 * AOF with fsync always, so a restart finds every acknowledged write.
 */
export class RedisServer {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'relay-redis-'));

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options);
    await server.restart();
    return server;
  }

  /** A port for a server not started yet, to start later with `restart()`. */
  static async reserve(options: RedisServerOptions = {}): Promise<RedisServer> {
    return new RedisServer(await freePort(), options);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A command on a short-lived connection (CONFIG SET, INFO, …). */
  async command(...args: Array<string | number>): Promise<unknown> {
    const client = new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    try {
      return await client.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      client.disconnect();
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        this.dir,
        '--maxmemory-policy',
        'noeviction',
        ...(this.options.maxmemory ? ['--maxmemory', this.options.maxmemory] : []),
        ...(this.options.replicaOf
          ? ['--replicaof', '127.0.0.1', String(this.options.replicaOf)]
          : []),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(() => answersPing(this.port), 10_000, 'redis-server to answer');
  }

  /** SIGKILL, as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Where Debian's redis-sentinel is, or null when the package is not installed. */
export function sentinelBinary(): string | null {
  return existsSync('/usr/bin/redis-sentinel') ? '/usr/bin/redis-sentinel' : null;
}

/** One redis-sentinel on a free loopback port, watching a loopback master as `name`. */
export class RedisSentinel {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'relay-sentinel-'));

  private constructor(readonly port: number) {}

  static async start(
    name: string,
    masterPort: number,
    quorum: number,
    downAfterMs = 1000,
  ): Promise<RedisSentinel> {
    const binary = sentinelBinary();
    if (!binary)
      throw new Error('redis-sentinel is not installed (apt-get install redis-sentinel)');
    const sentinel = new RedisSentinel(await freePort());
    const conf = join(sentinel.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinel.port}`,
        'bind 127.0.0.1',
        `dir ${sentinel.dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    sentinel.child = spawn(binary, [conf], { stdio: 'ignore' });
    await waitFor(() => answersPing(sentinel.port), 10_000, 'redis-sentinel to answer');
    return sentinel;
  }

  /** The master's port as this sentinel sees it now. */
  async masterPort(name: string): Promise<number> {
    const client = new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    try {
      const [, port] = (await client.call('SENTINEL', 'get-master-addr-by-name', name)) as string[];
      return Number(port);
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
