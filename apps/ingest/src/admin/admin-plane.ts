import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WEBHOOK_PATH } from '../webhooks/popbill-webhook.route';

/** Marks a request that arrived on the admin port. */
const ON_ADMIN_PORT = Symbol('onAdminPort');

type Plane = 'public' | 'admin' | 'both';

/**
 * Popbill's webhook is public only; health, and the not-found answer (no route), on both ports;
 * every other route is admin.
 */
export function planeOf(method: string, url: string | undefined): Plane {
  if (url === WEBHOOK_PATH && method === 'POST') return 'public';
  if (url === undefined || url.startsWith('/health/')) return 'both';
  return 'admin';
}

/**
 * Serves one Fastify app on two ports: the public one (Popbill's webhook and health) and a
 * private admin one (metrics, docs, Bull Board, health). A route asked on the wrong port is
 * answered exactly like an unknown path, so the public port does not reveal what exists.
 */
export class AdminPlane {
  private readonly server: Server;

  constructor(private readonly fastify: FastifyInstance) {
    this.server = createServer((request, response) => {
      (request as IncomingMessage & { [ON_ADMIN_PORT]?: true })[ON_ADMIN_PORT] = true;
      fastify.routing(request, response);
    });
    // Root-level, so it runs before the hooks of any route's own scope (Bull Board's auth).
    fastify.addHook(
      'onRequest',
      (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
        const plane = planeOf(request.method, request.routeOptions.url);
        const onAdmin = (request.raw as { [ON_ADMIN_PORT]?: true })[ON_ADMIN_PORT] === true;
        if (plane === 'both' || (plane === 'admin') === onAdmin) return done();
        reply.callNotFound();
      },
    );
    fastify.addHook('onClose', async () => {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    });
  }

  /** Opens the admin port once the app is initialised; returns its base URL. */
  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        const bound = typeof address === 'object' && address ? address.port : port;
        resolve(`http://${host.includes(':') ? `[${host}]` : host}:${bound}`);
      });
    });
  }
}
