import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RunStateStore } from '../../src/runs/run-state';

import { setUpRuns } from './runs-fixtures';

const setUp = () => setUpRuns();

describe('backup runs', () => {
  it('backs up through the quiesce path and reports the run in the status', async () => {
    const { runs, docker, target, volume, scheduler } = await setUp();
    await runs.volumes.volumeAdded(volume);
    const record = await runs.backups.run('v', 'manual');
    assert.equal(record.result, 'success', record.error);
    assert.deepEqual(docker.calls, ['stop app', 'start app']);
    assert.deepEqual((await target.list('v')).map((archive) => archive.name), [record.archive]);
    const status = runs.status.of(volume);
    assert.equal(status.archives, 1);
    assert.equal(status.schedule, '0 3 * * *');
    assert.equal((status.lastRun as { result: string }).result, 'success');
    assert.ok(typeof status.nextRun === 'string');
    scheduler.stopAll();
  });

  it('two runs in one second get two archives: the second waits for the next second rather than take the name', async () => {
    const { runs, target, volume, scheduler } = await setUp();
    await runs.volumes.volumeAdded(volume);
    const runsMade = [];
    for (let run = 0; run < 3; run++) runsMade.push(await runs.backups.run('v', 'manual'));
    scheduler.stopAll();
    for (const record of runsMade) assert.equal(record.result, 'success', record.error);
    const names = runsMade.map((record) => record.archive);
    assert.equal(new Set(names).size, 3, names.join(' '));
    assert.equal((await target.list('v')).length, 3);
  });

  it('removes the staging mirror and the schedule with the volume, and keeps the archives', async () => {
    const { runs, dir, target, volume, scheduler } = await setUp();
    await runs.volumes.volumeAdded(volume);
    await runs.backups.run('v', 'manual');
    await mkdir(join(dir, 'staging', 'v', 'mirror'), { recursive: true });
    await runs.volumes.volumeRemoved('v');
    await assert.rejects(stat(join(dir, 'staging', 'v')), { code: 'ENOENT' });
    assert.equal(scheduler.nextRun('v'), undefined);
    assert.equal((await target.list('v')).length, 1);
  });

  it('puts the staging mirror of a removed volume in the trash rather than deleting it in the Remove call', async () => {
    const discarded: string[] = [];
    const { runs, dir, volume } = await setUpRuns({ discardTree: async (path: string) => void discarded.push(path) });
    await runs.volumes.volumeAdded(volume);
    await mkdir(join(dir, 'staging', 'v', 'mirror'), { recursive: true });
    await runs.volumes.volumeRemoved('v');
    assert.deepEqual(discarded, [join(dir, 'staging', 'v')]);
    await stat(join(dir, 'staging', 'v', 'mirror')); // left to the trash's owner, not deleted here
  });

  it('a removal waits for the backup in progress, which would otherwise recreate the staging mirror', async () => {
    const { runs, dir, volume, scheduler } = await setUp();
    await runs.volumes.volumeAdded(volume);
    let backupEnded = false;
    const running = runs.backups.run('v', 'manual').finally(() => (backupEnded = true));
    await runs.volumes.volumeRemoving('v');
    assert.ok(backupEnded, 'volumeRemoving resolved only after the run ended');
    assert.equal((await running).result, 'success');
    assert.equal(scheduler.nextRun('v'), undefined, 'no new run is scheduled');
    await runs.volumes.volumeRemoved('v');
    await assert.rejects(stat(join(dir, 'staging', 'v')), { code: 'ENOENT' });
  });

  it('runs once at start a backup whose time passed while the plugin was down', async () => {
    const { runs, volumesDir, target, volume, scheduler } = await setUp();
    await new RunStateStore(volumesDir).write('v', { nextRunAt: '2026-01-01T03:00:00.000Z' });
    await runs.volumes.volumeAdded(volume);
    runs.volumes.catchUpMissedRuns();
    const deadline = Date.now() + 20_000;
    // Until the run is over, not just its archive written: it still saves the run state, and the temporary
    // folder must not be removed under it.
    const done = async () => (await target.list('v')).length > 0 && runs.status.of(volume).running === false;
    while (!(await done()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    scheduler.stopAll();
    assert.equal((await target.list('v')).length, 1);
  });

  it('does not catch up when the next run is still ahead, and refuses a second run of the same volume', async () => {
    const { runs, volumesDir, target, volume, scheduler } = await setUp();
    await new RunStateStore(volumesDir).write('v', { nextRunAt: new Date(Date.now() + 3_600_000).toISOString() });
    await runs.volumes.volumeAdded(volume);
    runs.volumes.catchUpMissedRuns();
    const first = runs.backups.run('v', 'manual');
    await assert.rejects(runs.backups.run('v', 'schedule'), /a backup of volume v is already running/);
    await first;
    scheduler.stopAll();
    assert.equal((await target.list('v')).length, 1);
  });
});
