import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { completeArchives, extractWithStandardTools, waitForArchiveAfter } from '../helpers/archives';
import { containerEvents, stoppedThenStarted, isRunning, waitForRunAfter, waitUntilRunning } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

const STOP = 'docker-volume-backup.stop-during-backup';
const STOP_NO_RESTART = 'docker-volume-backup.stop-during-backup-no-restart';

describe('labels compatible with offen/docker-volume-backup', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();
  const sleeper = (name: string, args: string[]) =>
    docker(['run', '-d', '--name', name, ...args, TEST_IMAGE, ...IDLE]);

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('stops labelled containers that do not mount the volume; no-restart ones stay stopped', async () => {
    const label = `${prefix}app`;
    const volume = `${prefix}labelled`;
    const labelled = `${prefix}labelled-web`;
    const oneShot = `${prefix}one-shot`;
    const unrelated = `${prefix}other-value`;
    await sleeper(labelled, ['--label', `${STOP}=${label}`]);
    await sleeper(oneShot, ['--label', `${STOP_NO_RESTART}=${label}`]);
    await sleeper(unrelated, ['--label', `${STOP}=${label}-not-this-one`]);
    const since = new Date();
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=*/5 * * * * *', '-o', `backup-stop-label=${label}`, volume]);

    await waitForArchiveAfter(volume, since);
    const status = await waitForRunAfter(volume, since);
    assert.deepEqual([...(status.lastRun?.stopped ?? [])].sort(), [labelled, oneShot].sort());
    await waitUntilRunning(labelled, 'the labelled container runs again');
    assert.ok(stoppedThenStarted(await containerEvents(labelled, since)), 'stopped, then started again');
    assert.equal(await isRunning(oneShot), false, 'the no-restart container stays stopped');
    assert.deepEqual(await containerEvents(oneShot, since), ['die']);
    assert.ok(await isRunning(unrelated));
    assert.deepEqual(await containerEvents(unrelated, since), []);
  });

  it('fails the run before stopping anything when a container has both labels', async () => {
    const label = `${prefix}both`;
    const volume = `${prefix}conflict`;
    const confused = `${prefix}confused`;
    const attached = `${prefix}attached`;
    await sleeper(confused, ['--label', `${STOP}=${label}`, '--label', `${STOP_NO_RESTART}=${label}`]);
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=*/5 * * * * *', '-o', `backup-stop-label=${label}`, volume]);
    await sleeper(attached, ['-v', `${volume}:/data`]);
    const since = new Date();

    const status = await waitForRunAfter(volume, since);
    assert.equal(status.lastRun?.result, 'failed');
    assert.match(status.lastRun?.error ?? '', new RegExp(`container ${confused} has both`));
    assert.deepEqual(await containerEvents(confused, since), []);
    assert.deepEqual(await containerEvents(attached, since), []);
    assert.ok(await isRunning(confused));
    assert.ok(await isRunning(attached));
    assert.deepEqual(await completeArchives(volume), []);
  });

  it('backup-stop=none stops nothing and says the backup was not quiesced; archive-pre output is archived', async () => {
    const volume = `${prefix}live`;
    const app = `${prefix}live-app`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=*/5 * * * * *', '-o', 'backup-stop=none', volume]);
    await docker([
      'run', '-d', '--name', app, '-v', `${volume}:/data`,
      '--label', 'docker-volume-backup.archive-pre=date +%s > /data/dump.txt',
      '--label', 'docker-volume-backup.archive-post=touch /tmp/post-ran',
      TEST_IMAGE, ...IDLE,
    ]);
    const since = new Date();

    const archive = await waitForArchiveAfter(volume, since);
    const status = await waitForRunAfter(volume, since);
    assert.equal(status.quiesced, false);
    assert.deepEqual(status.lastRun?.stopped, []);
    assert.deepEqual(await containerEvents(app, since), []);
    const tree = await extractWithStandardTools(volume, archive);
    try {
      assert.match(await readFile(join(tree, 'dump.txt'), 'utf8'), /^\d+\n$/);
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
    await docker(['exec', app, 'test', '-f', '/tmp/post-ran']);
  });
});
