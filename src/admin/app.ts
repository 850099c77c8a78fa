// The admin HTTP server (fastify): health probes, Prometheus metrics and the
// REST API (delay messages: delay-routes.ts). The web console of later issues
// hangs off the same app.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Broker } from '../broker/broker.ts';
import type { Logger } from '../logger.ts';
import { registerDelayRoutes } from './delay-routes.ts';
import type { Health } from './health.ts';
import type { BrokerMetrics } from './metrics.ts';

export interface AdminOptions {
  health: Health;
  metrics: BrokerMetrics;
  logger: Logger;
  /**
   * The broker behind the REST API, null until it is open (the admin server
   * starts first) and again once it stops: the REST routes answer 503 then.
   * Absent: always null.
   */
  delays?: () => Broker | null;
  /** Largest POST /v1/delay-messages body in bytes (default delay-routes.ts DELAY_BODY_LIMIT_DEFAULT). */
  delayBodyLimitBytes?: number;
}

/** Per-request lines at debug: probes and scrapes would otherwise flood the info log. */
class QuietRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) request.log.error({ err: error, url: request.url, statusCode: reply.statusCode }, 'request errored');
    else request.log.debug({ url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
  }
}

export function buildAdminApp(options: AdminOptions): FastifyInstance {
  const { health, metrics } = options;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new QuietRequestLog(),
    // Keep-alive connections that sit idle must not hold up close().
    forceCloseConnections: 'idle',
  });

  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const report = health.report();
    return reply.code(health.ready ? 200 : 503).send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.text();
    return reply.type(metrics.contentType).send(text);
  });

  registerDelayRoutes(app, {
    broker: options.delays ?? (() => null),
    ...(options.delayBodyLimitBytes === undefined ? {} : { bodyLimitBytes: options.delayBodyLimitBytes }),
  });

  // Errors in the shape of the REST API (Confluent REST v3 style).
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error_code: 404, message: `no route ${request.method} ${request.url}` });
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error, url: request.url }, 'admin request failed');
    void reply.code(status).send({ error_code: status, message: status >= 500 ? 'internal error' : error.message });
  });

  return app;
}

export interface AdminServer {
  app: FastifyInstance;
  /** The bound address; `port` is the real one when 0 was asked for. */
  address: { host: string; port: number; url: string };
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminOptions & { host: string; port: number }): Promise<AdminServer> {
  const app = buildAdminApp(options);
  await app.listen({ host: options.host, port: options.port, listenTextResolver: (address) => `admin HTTP bound ${address}` });
  const bound = app.server.address();
  if (bound === null || typeof bound === 'string') throw new Error(`admin HTTP server has no TCP address: ${String(bound)}`);
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    app,
    address: { host: bound.address, port: bound.port, url: `http://${urlHost}:${bound.port}` },
    close: () => app.close(),
  };
}
