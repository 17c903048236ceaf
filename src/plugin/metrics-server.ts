import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { HealthCheck, type HealthDeps } from '../runs/health';
import { createMetricsRegistry, type MetricsOptions, type MetricsSource } from '../runs/metrics';
import type { ListenAddress } from '../settings/settings';
import type { Logger } from '../shared/logger';

export interface MetricsServerDeps extends MetricsOptions {
  address: ListenAddress;
  metrics: MetricsSource;
  health: HealthDeps;
  logger: Logger;
}

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one given for port 0 in tests). */
  port: number;
  close(): Promise<void>;
}

/**
 * METRICS_ADDR's listener: `/metrics` (Prometheus text) and `/healthz` (JSON). Plain node:http: two read-only
 * routes need no framework, and nothing here may change the plugin's state.
 */
export async function startMetricsServer(deps: MetricsServerDeps): Promise<MetricsServer> {
  const registry = createMetricsRegistry(deps.metrics, deps);
  const health = new HealthCheck(deps.health);
  const server = createServer((request, response) => {
    answer(request, response, registry, health).catch((error: Error) => {
      deps.logger.error(`Answering ${request.method} ${request.url} on METRICS_ADDR failed: ${error.message}`);
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.address.port, deps.address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection would otherwise hold close() open until it times out.
        server.closeAllConnections();
      }),
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, registry: Registry, health: HealthCheck): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://metrics').pathname;
  if (path !== '/metrics' && path !== '/healthz') return send(response, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
  }
  if (path === '/metrics') return send(response, 200, registry.contentType, await registry.metrics());
  const report = await health.report();
  send(response, report.ok ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`);
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
