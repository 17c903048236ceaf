import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import { createRedactor } from '../../src/shared/redact';
import { Notifier } from '../../src/runs/notifier';
import type { DrillRecord, RunRecord } from '../../src/vocabulary/run-record';
import { capturingLogger } from '../helpers/capturing-logger';
import { eventually } from '../helpers/eventually';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { setUpRuns } from './runs-fixtures';

/** Closed when this file's tests end: a test that fails half way must not leave a server holding the process open. */
async function receiver(status?: number): Promise<WebhookReceiver> {
  const hook = await startWebhookReceiver(status);
  after(() => hook.close());
  return hook;
}

/** A port nothing listens on: bound, then closed. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const FAILED: RunRecord = {
  trigger: 'schedule',
  startedAt: '2026-11-26T03:00:00.000Z',
  finishedAt: '2026-11-26T03:00:02.000Z',
  result: 'failed',
  durationMs: 2000,
  quiesced: true,
  stopped: ['db'],
  error: 'container db did not stop in time',
};
const SUCCEEDED: RunRecord = { ...FAILED, result: 'success', error: undefined, archive: 'v-20261126T030000Z.tar.gz', bytes: 4096, downtimeMs: 120 };

describe('Notifier', () => {
  it('tells of a failed drill like a failed backup, and of an ok one only at level info', async () => {
    const hook = await receiver();
    const failed: DrillRecord = { time: '2026-12-03T04:00:00.000Z', result: 'failed', trigger: 'schedule', seconds: 1.5, error: 'archive v-x.tar.gz is corrupt' };
    const ok: DrillRecord = { ...failed, result: 'ok', error: undefined, archive: 'v-x.tar.gz', mbPerSecond: 80 };
    await new Notifier({ urls: [hook.url('/hook')], level: 'error', logger: createSilentLogger() }).drillFinished('v', ok);
    await new Notifier({ urls: [hook.url('/hook')], level: 'error', logger: createSilentLogger() }).drillFinished('v', failed);
    assert.equal(hook.received.length, 1);
    assert.equal(hook.received[0].body.event, 'drill');
    assert.equal(hook.received[0].body.result, 'failed');
    assert.match(hook.received[0].body.text, /restore drill of volume v FAILED after 1.5 s: archive v-x.tar.gz is corrupt/);
    await new Notifier({ urls: [hook.url('/hook')], level: 'info', logger: createSilentLogger() }).drillFinished('v', ok);
    assert.match(hook.received[1].body.text, /restore drill of volume v ok: v-x.tar.gz restored and checked in 1.5 s \(80 MB\/s\)/);
  });

  it('level error: posts a failure as JSON with text and content, and nothing for a success', async () => {
    const hook = await receiver();
    const notifier = new Notifier({ urls: [hook.url('/hook/T0KEN')], level: 'error', logger: createSilentLogger() });
    await notifier.runFinished('v', SUCCEEDED);
    await notifier.runFinished('v', FAILED);
    assert.equal(hook.received.length, 1);
    const { path, body, contentType } = hook.received[0];
    assert.equal(contentType, 'application/json');
    assert.equal(path, '/hook/T0KEN');
    assert.equal(body.volume, 'v');
    assert.equal(body.result, 'failed');
    assert.equal(body.error, 'container db did not stop in time');
    assert.equal(body.durationMs, 2000);
    assert.match(body.text, /backup of volume v FAILED .*did not stop in time/);
    assert.equal(body.content, body.text);
  });

  it('level info: posts successes too, with archive, bytes, duration and downtime', async () => {
    const hook = await receiver();
    const notifier = new Notifier({ urls: [hook.url('')], level: 'info', logger: createSilentLogger() });
    await notifier.runFinished('v', SUCCEEDED);
    assert.equal(hook.received.length, 1);
    const { body, contentType } = hook.received[0];
    assert.equal(contentType, 'application/json');
    assert.deepEqual(
      { result: body.result, archive: body.archive, bytes: body.bytes, downtimeMs: body.downtimeMs, error: body.error },
      { result: 'success', archive: 'v-20261126T030000Z.tar.gz', bytes: 4096, downtimeMs: 120, error: null },
    );
    assert.match(body.text, /backed up volume v as v-20261126T030000Z\.tar\.gz \(4\.0 KiB/);
  });

  it('a failing webhook is logged by scheme and host only, and the others still get theirs', async () => {
    const broken = await receiver(500);
    const dead = await deadUrl();
    const good = await receiver();
    const { logger, lines } = capturingLogger();
    const notifier = new Notifier({ urls: [broken.url('/services/SECRET-PATH?token=SECRET-QUERY'), `${dead}/x/SECRET-PATH`, good.url(''), 'ftp://nope/SECRET-PATH'], level: 'error', logger });
    await notifier.runFinished('v', FAILED);
    assert.equal(good.received.length, 1);
    assert.equal(good.received[0].contentType, 'application/json');
    const log = lines.join('');
    assert.match(log, new RegExp(`Notification to ${broken.url('')} failed: HTTP 500`));
    assert.match(log, new RegExp(`Notification to ${dead} failed: ECONNREFUSED`));
    assert.match(log, /NOTIFY_URLS entry 4 is not an http\(s\) URL/);
    assert.ok(!log.includes('SECRET'), log);
  });

  it('masks a secret that JSON would escape (a quote, a backslash) in every text field', async () => {
    const hook = await receiver();
    const secret = 'pa"ss\\word-Qx7';
    const notifier = new Notifier({ urls: [hook.url('')], level: 'error', logger: createSilentLogger(), redact: createRedactor([secret]) });
    await notifier.runFinished('v', { ...FAILED, error: `target s3: the server said: bad key ${secret}` });
    const { raw, body } = hook.received[0];
    assert.ok(!raw.includes(secret) && !raw.includes(JSON.stringify(secret).slice(1, -1)), raw);
    assert.equal(body.error, 'target s3: the server said: bad key [redacted]');
    assert.match(body.text, /bad key \[redacted\]$/);
    assert.equal(body.content, body.text);
  });

  it('a secret that is also a JSON word (true, null) leaves the body valid JSON', async () => {
    const hook = await receiver();
    const notifier = new Notifier({ urls: [hook.url('')], level: 'error', logger: createSilentLogger(), redact: createRedactor(['true', 'null']) });
    await notifier.runFinished('v', { ...FAILED, error: 'null pointer: true story' });
    const { body } = hook.received[0];
    assert.deepEqual(
      { quiesced: body.quiesced, archive: body.archive, warning: body.warning, error: body.error },
      { quiesced: true, archive: null, warning: null, error: '[redacted] pointer: [redacted] story' },
    );
  });
});

describe('backup run notifications', () => {
  it('tells the webhook of a failed run; an unreachable webhook does not fail a run', async () => {
    const hook = await receiver();
    const { runs, docker, scheduler, volume } = await setUpRuns({
      notifier: new Notifier({ urls: [await deadUrl(), hook.url('')], level: 'error', logger: createSilentLogger() }),
    });
    await runs.volumes.volumeAdded(volume);

    const succeeded = await runs.backups.run('v', 'manual');
    assert.equal(succeeded.result, 'success', succeeded.error);

    docker.refuseToStop.add('app');
    const failed = await runs.backups.run('v', 'manual');
    assert.equal(failed.result, 'failed');
    await eventually('the webhook got the failure', async () => hook.received.length > 0, 10_000);
    assert.equal(hook.received.length, 1, 'only the failure, at level error');
    assert.equal(hook.received[0].contentType, 'application/json');
    assert.equal(hook.received[0].body.result, 'failed');
    assert.match(hook.received[0].body.error ?? '', /did not stop in time/);
    scheduler.stopAll();
  });
});
