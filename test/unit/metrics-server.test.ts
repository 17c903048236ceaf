import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, describe, it } from 'node:test';
import { startMetricsServer, type MetricsServer } from '../../src/plugin/metrics-server';
import { HealthCheck, type HealthDeps, type HealthReport } from '../../src/runs/health';
import { createSilentLogger } from '../../src/shared/logger';
import type { RunRecord, RunState } from '../../src/vocabulary/run-record';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text';

function lastRun(finishedAt: string, targets: RunRecord['targets']): RunState {
  return {
    lastRun: { trigger: 'schedule', startedAt: finishedAt, finishedAt, result: 'success', durationMs: 1, quiesced: true, stopped: [], targets },
  };
}

function healthDeps(change: Partial<HealthDeps> = {}, states: Record<string, RunState> = {}): HealthDeps {
  return {
    ping: async () => undefined,
    volumes: () => Object.keys(states),
    state: (volume) => states[volume] ?? {},
    targets: () => ['local'],
    ...change,
  };
}

describe('health check', () => {
  it('reports the Docker API, and per configured target the newest outcome any run recorded', async () => {
    const states = {
      a: lastRun('2026-03-01T03:00:00.000Z', [{ name: 'local', result: 'success' }, { name: 's3', result: 'failed', error: 'denied' }]),
      b: lastRun('2026-03-01T04:00:00.000Z', [{ name: 's3', result: 'success' }]),
      c: {},
    };
    const report = await new HealthCheck(healthDeps({ targets: () => ['local', 's3', 'sftp'] }, states)).report();
    assert.equal(report.ok, true);
    assert.equal(report.docker.ok, true);
    assert.equal(report.volumes, 3);
    assert.deepEqual(report.targets, [
      { name: 'local', ok: true, at: '2026-03-01T03:00:00.000Z' },
      { name: 's3', ok: true, at: '2026-03-01T04:00:00.000Z' },
      { name: 'sftp', ok: null, at: null },
    ]);
  });

  it('is not ok when the Docker API fails or does not answer in time', async () => {
    const failing = await new HealthCheck(healthDeps({ ping: () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock')) })).report();
    assert.equal(failing.ok, false);
    assert.equal(failing.docker.ok, false);
    const started = Date.now();
    const hanging = await new HealthCheck(healthDeps({ ping: () => new Promise(() => undefined), pingTimeoutMs: 50 })).report();
    assert.equal(hanging.ok, false);
    assert.ok(Date.now() - started < 2_000);
  });

  it('reuses a recent ping, and shares one between concurrent checks', async () => {
    let pings = 0;
    let now = 1_000_000;
    const health = new HealthCheck(healthDeps({ ping: async () => void pings++, now: () => now }));
    await Promise.all([health.report(), health.report(), health.report()]);
    assert.equal(pings, 1);
    now += 4_000;
    await health.report();
    assert.equal(pings, 1);
    now += 2_000;
    await health.report();
    assert.equal(pings, 2);
  });
});

interface Answer {
  status: number;
  type: string;
  body: string;
}

/** A GET (or another method) with its own agent, which the test then leaves open as a scraper would. */
function ask(port: number, path: string, method = 'GET', agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics server', () => {
  const servers: MetricsServer[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));
  let dockerAnswers = true;

  async function start(): Promise<MetricsServer> {
    const states: Record<string, RunState> = { db: { archiveCount: 2 } };
    const server = await startMetricsServer({
      address: { host: '127.0.0.1', port: 0 },
      metrics: {
        volumes: () => Object.keys(states),
        state: (volume) => states[volume] ?? {},
        nextRun: () => undefined,
        counts: () => ({ success: 1, failed: 0 }),
      },
      health: healthDeps({ ping: async () => { if (!dockerAnswers) throw new Error('down'); } }, states),
      processMetrics: false,
      logger: createSilentLogger(),
    });
    servers.push(server);
    return server;
  }

  it('serves /metrics in the Prometheus text format', async () => {
    const { port } = await start();
    const answer = await ask(port, '/metrics');
    assert.equal(answer.status, 200);
    assert.match(answer.type, /^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(answer.body);
    assert.equal(sampleValue(samples, 'backupvol_archives', { volume: 'db' }), 2);
    assert.equal(sampleValue(samples, 'backupvol_backups_total', { volume: 'db', result: 'success' }), 1);
    assert.match(answer.body, /# TYPE backupvol_backups_total counter/);
  });

  it('answers /healthz 200 while the Docker API answers, 503 when it does not', async () => {
    const { port } = await start();
    const healthy = await ask(port, '/healthz');
    assert.equal(healthy.status, 200);
    assert.equal(healthy.type, 'application/json');
    assert.equal((JSON.parse(healthy.body) as HealthReport).docker.ok, true);
    dockerAnswers = false;
    const other = await start(); // a fresh check: the first server's ping is still fresh
    const sick = await ask(other.port, '/healthz');
    dockerAnswers = true;
    assert.equal(sick.status, 503);
    assert.deepEqual((JSON.parse(sick.body) as HealthReport).docker.ok, false);
  });

  it('refuses other paths and methods', async () => {
    const { port } = await start();
    assert.equal((await ask(port, '/')).status, 404);
    assert.equal((await ask(port, '/metrics/../admin')).status, 404);
    assert.equal((await ask(port, '/metrics', 'POST')).status, 405);
    const head = await ask(port, '/metrics', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('closes promptly although a scraper keeps its connection alive', async () => {
    const server = await start();
    const agent = new Agent({ keepAlive: true });
    await ask(server.port, '/metrics', 'GET', agent);
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 1_000, 'close() did not wait for the idle keep-alive connection');
    await assert.rejects(ask(server.port, '/metrics'), /ECONNREFUSED/);
    agent.destroy();
  });

  it('fails to start, with the reason, when the port is taken', async () => {
    const taken = await start();
    await assert.rejects(
      startMetricsServer({
        address: { host: '127.0.0.1', port: taken.port },
        metrics: { volumes: () => [], state: () => ({}), nextRun: () => undefined, counts: () => ({ success: 0, failed: 0 }) },
        health: healthDeps(),
        processMetrics: false,
        logger: createSilentLogger(),
      }),
      /EADDRINUSE/,
    );
  });
});
