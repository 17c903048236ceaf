import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import { BringBackRetrier } from '../../src/runs/bring-back-retrier';
import { StopJournal } from '../../src/engine/stop-journal';
import { VolumeActivity } from '../../src/runs/volume-activity';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';
import { setUpRuns } from './runs-fixtures';

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('not true in time');
    await delay(10);
  }
}

describe('BringBackRetrier', () => {
  it('keeps trying with growing delays until the container starts, then clears the journal and the status', async () => {
    const docker = new FakeDocker([container('a', { running: false })]);
    docker.refuseToStart.add('a');
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', [{ id: 'a', name: 'a', restart: true }]);
    const retrier = new BringBackRetrier({ docker, journal, activity: new VolumeActivity(), logger: createSilentLogger(), firstDelayMs: 20 });
    await retrier.retryJournaled('v');
    assert.deepEqual(retrier.status('v')?.failures, ['container a']);
    await until(() => docker.calls.length >= 3);
    assert.ok((retrier.status('v')?.retries ?? 0) >= 2);
    assert.match(retrier.status('v')?.failures[0] ?? '', /container a: container a could not be started/);
    docker.refuseToStart.delete('a');
    await until(() => retrier.status('v') === undefined);
    assert.ok(docker.containers[0].running);
    assert.deepEqual(await journal.pending(), []);
    retrier.stop();
  });

  it('does not start anything while the volume is busy with a run', async () => {
    const docker = new FakeDocker([container('a', { running: false })]);
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', [{ id: 'a', name: 'a', restart: true }]);
    const activity = new VolumeActivity();
    const retrier = new BringBackRetrier({ docker, journal, activity, logger: createSilentLogger(), firstDelayMs: 10 });
    let endRun: () => void = () => undefined;
    const run = activity.run('v', 'backup', () => new Promise<void>((resolve) => (endRun = resolve)));
    await retrier.retryJournaled('v');
    await delay(100);
    assert.deepEqual(docker.calls, []);
    endRun();
    await run;
    await until(() => docker.containers[0].running);
    retrier.stop();
  });
});

describe('a run whose bring-back fails', () => {
  it('is retried in the background, and the status says what is left down', async () => {
    let retrier: BringBackRetrier | undefined;
    const { runs, volume, scheduler, docker } = await setUpRuns((parts) => {
      retrier = new BringBackRetrier({ ...parts, logger: createSilentLogger(), firstDelayMs: 20 });
      return { retrier };
    });
    await runs.volumes.volumeAdded(volume);
    docker.refuseToStart.add('app');
    const record = await runs.backups.run('v', 'manual');
    assert.match(record.error ?? '', /could not bring back: container app.*retried in the background/);
    const leftDown = runs.status.of(volume).leftDown as { failures: string[] } | undefined;
    assert.deepEqual(leftDown?.failures, ['container app']);
    docker.refuseToStart.delete('app');
    await until(() => runs.status.of(volume).leftDown === undefined);
    assert.ok(docker.containers[0].running);
    retrier?.stop();
    scheduler.stopAll();
  });
});

describe('a run when the plugin is stopping', () => {
  it('fails without stopping anything once its signal is aborted', async () => {
    const stopping = new AbortController();
    const { runs, volume, scheduler, docker } = await setUpRuns({ signal: stopping.signal });
    await runs.volumes.volumeAdded(volume);
    stopping.abort(new Error('the plugin is stopping (SIGTERM)'));
    const record = await runs.backups.run('v', 'manual');
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /the plugin is stopping/);
    assert.deepEqual(docker.calls, []);
    scheduler.stopAll();
  });
});
