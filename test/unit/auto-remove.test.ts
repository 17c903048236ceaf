import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABELS, planQuiesce } from '../../src/engine/plan-quiesce';
import { container } from '../helpers/fake-docker';
import { setUpRuns } from './runs-fixtures';

describe('containers started with --rm', () => {
  it('an attached one is refused by the plan, naming it; a labelled one is planned', () => {
    const once = container('once', { volumes: ['data'], autoRemove: true });
    assert.throws(
      () => planQuiesce({ volume: 'data', policy: 'attached', stopLabel: 'true', containers: [container('db', { volumes: ['data'] }), once] }),
      (error: Error) => /container once .*started with --rm.*Nothing was stopped\.$/.test(error.message),
    );
    const labelled = { ...once, labels: { [LABELS.stop]: 'true' } };
    assert.deepEqual(
      planQuiesce({ volume: 'data', policy: 'attached', stopLabel: 'true', containers: [labelled] }).stop.map((stop) => stop.name),
      ['once'],
    );
  });

  it('fails the run before anything is stopped when an attached one is unlabelled', async () => {
    const { runs, volume, scheduler, docker } = await setUpRuns();
    docker.containers.push(container('once', { volumes: ['v'], autoRemove: true }));
    await runs.volumes.volumeAdded(volume);
    const record = await runs.backups.run('v', 'manual');
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /container once mounts the volume and was started with --rm/);
    assert.ok(!docker.calls.some((call) => call.startsWith('stop ')), docker.calls.join(', '));
    scheduler.stopAll();
  });

  it('a labelled one is stopped, and the status says it is gone', async () => {
    const { runs, volume, scheduler, docker } = await setUpRuns();
    docker.containers.push(container('once', { volumes: ['v'], autoRemove: true, labels: { [LABELS.stop]: 'true' } }));
    await runs.volumes.volumeAdded(volume);
    const record = await runs.backups.run('v', 'manual');
    assert.equal(record.result, 'success', record.error);
    const lastRun = runs.status.of(volume).lastRun as { gone?: string[]; warning?: string };
    assert.deepEqual(lastRun.gone, ['container once']);
    assert.match(lastRun.warning ?? '', /gone after the backup.*container once/);
    scheduler.stopAll();
  });
});
