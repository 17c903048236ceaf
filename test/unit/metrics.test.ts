import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetricsRegistry, type MetricsSource } from '../../src/runs/metrics';
import type { RunResultCounts } from '../../src/runs/run-counts';
import type { RunRecord, RunState } from '../../src/vocabulary/run-record';
import { parsePrometheusText, sampleValue, type Sample } from '../helpers/prometheus-text';
import { setUpRuns } from './runs-fixtures';

const FINISHED = '2026-03-01T03:00:12.000Z';

function run(change: Partial<RunRecord> = {}): RunRecord {
  return {
    trigger: 'schedule',
    startedAt: '2026-03-01T03:00:00.000Z',
    finishedAt: FINISHED,
    result: 'success',
    archive: 'db-20260301T030000Z.tar.gz',
    bytes: 4096,
    durationMs: 12_000,
    downtimeMs: 1_500,
    quiesced: true,
    stopped: ['db'],
    ...change,
  };
}

/** A source over fixed states, as main.ts wires one over the plugin's own. */
function fakeSource(states: Record<string, RunState>, extra: { next?: Record<string, Date>; counts?: Record<string, RunResultCounts> } = {}): MetricsSource {
  return {
    volumes: () => Object.keys(states),
    state: (volume) => states[volume] ?? {},
    nextRun: (volume) => extra.next?.[volume],
    counts: (volume) => extra.counts?.[volume] ?? { success: 0, failed: 0 },
  };
}

async function scrape(source: MetricsSource, processMetrics = false): Promise<{ text: string; samples: Sample[] }> {
  const text = await createMetricsRegistry(source, { processMetrics }).metrics();
  return { text, samples: parsePrometheusText(text) };
}

describe('metrics collection', () => {
  it("reads each volume's last run, archives, next run and run counts at scrape time", async () => {
    const next = new Date('2026-03-02T03:00:00.000Z');
    const source = fakeSource(
      { db: { lastRun: run(), lastSuccessAt: FINISHED, archiveCount: 3 } },
      { next: { db: next }, counts: { db: { success: 5, failed: 2 } } },
    );
    const { samples } = await scrape(source);
    const db = { volume: 'db' };
    assert.equal(sampleValue(samples, 'backupvol_last_success_timestamp_seconds', db), Date.parse(FINISHED) / 1000);
    assert.equal(sampleValue(samples, 'backupvol_backup_duration_seconds', db), 12);
    assert.equal(sampleValue(samples, 'backupvol_downtime_seconds', db), 1.5);
    assert.equal(sampleValue(samples, 'backupvol_archive_bytes', db), 4096);
    assert.equal(sampleValue(samples, 'backupvol_archives', db), 3);
    assert.equal(sampleValue(samples, 'backupvol_next_run_timestamp_seconds', db), next.getTime() / 1000);
    assert.equal(sampleValue(samples, 'backupvol_backups_total', { volume: 'db', result: 'success' }), 5);
    assert.equal(sampleValue(samples, 'backupvol_backups_total', { volume: 'db', result: 'failed' }), 2);
  });

  it('carries the progress of a running run, and no series when none runs', async () => {
    const source = { ...fakeSource({ db: {}, web: {} }), progress: (volume: string) => (volume === 'db' ? 0.4 : undefined) };
    const { samples } = await scrape(source);
    assert.equal(sampleValue(samples, 'backupvol_run_progress_ratio', { volume: 'db' }), 0.4);
    assert.equal(sampleValue(samples, 'backupvol_run_progress_ratio', { volume: 'web' }), undefined);
  });

  it("carries the last drill: its time under its result, and its seconds", async () => {
    const time = '2026-03-01T04:00:00.000Z';
    const failed = { time, result: 'failed' as const, trigger: 'schedule' as const, seconds: 2.5, error: 'archive x is corrupt' };
    const { samples, text } = await scrape(fakeSource({ db: { lastDrill: failed }, web: {} }));
    assert.equal(sampleValue(samples, 'backupvol_drill_last_timestamp_seconds', { volume: 'db', result: 'failed' }), Date.parse(time) / 1000);
    assert.equal(sampleValue(samples, 'backupvol_drill_seconds', { volume: 'db' }), 2.5);
    assert.equal(samples.filter((sample) => sample.name === 'backupvol_drill_last_timestamp_seconds').length, 1, 'one series: the last drill');
    assert.doesNotMatch(text, /corrupt/);
  });

  it('follows the state between scrapes, and drops the series of a volume that is gone', async () => {
    const states: Record<string, RunState> = { db: { archiveCount: 1 }, web: { archiveCount: 2 } };
    const registry = createMetricsRegistry(fakeSource(states), { processMetrics: false });
    assert.equal(sampleValue(parsePrometheusText(await registry.metrics()), 'backupvol_archives', { volume: 'web' }), 2);
    states.db = { archiveCount: 4 };
    delete states.web;
    const samples = parsePrometheusText(await registry.metrics());
    assert.equal(sampleValue(samples, 'backupvol_archives', { volume: 'db' }), 4);
    assert.equal(samples.filter((sample) => sample.labels.volume === 'web').length, 0);
  });

  it('leaves out what a volume does not have yet, and shows both results of the counter at 0', async () => {
    const { samples } = await scrape(fakeSource({ fresh: {} }));
    assert.deepEqual(
      samples.filter((sample) => sample.labels.volume === 'fresh').map(({ name, labels, value }) => ({ name, labels, value })),
      [
        { name: 'backupvol_archives', labels: { volume: 'fresh' }, value: 0 },
        { name: 'backupvol_backups_total', labels: { volume: 'fresh', result: 'success' }, value: 0 },
        { name: 'backupvol_backups_total', labels: { volume: 'fresh', result: 'failed' }, value: 0 },
      ],
    );
  });

  it('a failed last run keeps the last success and has no archive bytes', async () => {
    const failed = run({ result: 'failed', archive: undefined, bytes: undefined, downtimeMs: undefined, error: 'container db did not stop' });
    const { samples } = await scrape(fakeSource({ db: { lastRun: failed, lastSuccessAt: FINISHED } }));
    assert.equal(sampleValue(samples, 'backupvol_last_success_timestamp_seconds', { volume: 'db' }), Date.parse(FINISHED) / 1000);
    assert.equal(sampleValue(samples, 'backupvol_archive_bytes', { volume: 'db' }), undefined);
    assert.equal(sampleValue(samples, 'backupvol_downtime_seconds', { volume: 'db' }), undefined);
  });

  it('labels series with the volume and the result only: errors, archives and targets stay out', async () => {
    const secretish = 'target s3: access denied for key AKIAXXXXSECRET with password hunter2';
    const failed = run({ result: 'failed', error: secretish, targets: [{ name: 's3', result: 'failed', error: secretish }] });
    const { text, samples } = await scrape(fakeSource({ db: { lastRun: failed } }, { counts: { db: { success: 0, failed: 1 } } }));
    const labelNames = new Set(samples.flatMap((sample) => Object.keys(sample.labels)));
    assert.deepEqual([...labelNames].sort(), ['result', 'volume']);
    for (const leak of ['hunter2', 'AKIA', 'tar.gz', 's3']) assert.ok(!text.includes(leak), `${leak} appears in the metrics`);
  });

  it("adds prom-client's process metrics unless asked not to", async () => {
    const { samples } = await scrape(fakeSource({}), true);
    assert.ok(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total'));
    assert.ok(samples.some((sample) => sample.name === 'nodejs_heap_size_used_bytes'));
  });
});

describe('run counts', () => {
  it('counts each backup result where the run is recorded, and forgets a removed volume', async () => {
    const { runs, docker, volume, scheduler } = await setUpRuns();
    await runs.volumes.volumeAdded(volume);
    const first = await runs.backups.run('v', 'manual');
    assert.equal(first.result, 'success', first.error);
    docker.refuseToStop.add('app');
    assert.equal((await runs.backups.run('v', 'manual')).result, 'failed');
    assert.deepEqual(runs.counts.of('v'), { success: 1, failed: 1 });

    const source: MetricsSource = {
      volumes: () => ['v'],
      state: (name) => runs.states.of(name),
      nextRun: (name) => scheduler.nextRun(name),
      counts: (name) => runs.counts.of(name),
    };
    const { samples } = await scrape(source);
    assert.equal(sampleValue(samples, 'backupvol_backups_total', { volume: 'v', result: 'success' }), 1);
    assert.equal(sampleValue(samples, 'backupvol_backups_total', { volume: 'v', result: 'failed' }), 1);
    assert.equal(sampleValue(samples, 'backupvol_archives', { volume: 'v' }), 1);
    assert.equal(sampleValue(samples, 'backupvol_last_success_timestamp_seconds', { volume: 'v' }), Date.parse(first.finishedAt) / 1000);
    assert.ok((sampleValue(samples, 'backupvol_next_run_timestamp_seconds', { volume: 'v' }) ?? 0) > Date.now() / 1000);

    await runs.volumes.volumeRemoved('v');
    assert.deepEqual(runs.counts.of('v'), { success: 0, failed: 0 });
    scheduler.stopAll();
  });
});
