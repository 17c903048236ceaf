import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allArchiveFiles, completeArchives } from '../helpers/archives';
import { containerEvents, stoppedThenStarted, isRunning, waitForRunAfter, waitUntilRunning } from '../helpers/backup-status';
import { docker, run } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { markEngineLog, pluginLogSince } from '../helpers/engine-log';
import { installFreshPlugin, PLUGIN, pluginId, killPlugin, waitForPluginRestart } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { removeObjectsWithPrefix, useUniquePrefix } from '../helpers/unique-prefix';

describe('failed and interrupted backups', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('a plugin killed while containers are stopped: the engine restarts it, it starts them, no complete archive', async () => {
    const volume = `${prefix}killed`;
    const app = `${prefix}killed-app`;
    const removedMeanwhile = `${prefix}killed-removed`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-snapshot=direct', '-o', 'backup-schedule=*/10 * * * * *', volume]);
    // Random data archives slowly enough (direct mode: stopped during the whole archive) to be caught.
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'dd', 'if=/dev/urandom', 'of=/data/random', 'bs=1M', 'count=600']);
    await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
    await docker(['run', '-d', '--name', removedMeanwhile, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);

    let partial = '';
    await eventually('both containers stopped by a backup in progress', async () => {
      partial = (await allArchiveFiles(volume)).find((name) => name.startsWith('.partial-')) ?? '';
      return partial !== '' && !(await isRunning(app)) && !(await isRunning(removedMeanwhile));
    }, 90_000);
    // Archive names have second resolution: a run the restarted plugin begins within the second the
    // interrupted one began would take its name. The kill comes in a later second.
    await delay(1_050 - (Date.now() % 1_000));
    // The user removes a stopped container while the plugin is down: the journal still names it.
    await docker(['rm', removedMeanwhile]);
    const logMark = await markEngineLog();
    await waitForPluginRestart(await killPlugin());
    await waitUntilRunning(app, 'the app runs again');
    const interrupted = partial.slice('.partial-'.length);
    assert.ok(!(await completeArchives(volume)).includes(interrupted), `${interrupted} must not look complete`);
    // Dropped from the journal at once: not retried, not kept for every later start.
    const log = async (): Promise<string> => (await pluginLogSince(logMark, [await pluginId()])).join('\n');
    await eventually('the plugin says the removed container is gone', async () =>
      (await log()).includes(`Nothing to bring back for volume ${volume}: container ${removedMeanwhile} no longer exists`),
    );
    assert.doesNotMatch(await log(), new RegExp(`Could not (yet )?bring back[^\\n]*container ${removedMeanwhile}:`));
  });

  describe('a full target', () => {
    let tiny = '';

    before(async () => {
      tiny = await mkdtemp(join(tmpdir(), `${prefix}full-`));
      await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tiny]);
      await docker(['plugin', 'disable', '-f', PLUGIN]);
      await docker(['plugin', 'set', PLUGIN, `archive.source=${tiny}`, 'BACKUPVOL_ARCHIVE_DIR=/archive']);
      await docker(['plugin', 'enable', PLUGIN]);
    });

    after(async () => {
      // First what schedules runs: a run caught by the disable below could not bring its containers back.
      await removeObjectsWithPrefix(`${prefix}full`);
      await docker(['plugin', 'disable', '-f', PLUGIN]).catch(() => undefined);
      await docker(['plugin', 'set', PLUGIN, 'archive.source=/var/lib', 'BACKUPVOL_ARCHIVE_DIR=/archive/backupvol/archive']);
      await docker(['plugin', 'enable', PLUGIN]);
      await run('umount', [tiny]).catch(() => undefined);
      await rm(tiny, { recursive: true, force: true });
    });

    it('fails the run cleanly: error in the status, containers restarted, nothing left that looks complete', async () => {
      const volume = `${prefix}full`;
      const app = `${prefix}full-app`;
      await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-compression=none', '-o', 'backup-schedule=*/5 * * * * *', volume]);
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'dd', 'if=/dev/urandom', 'of=/data/random', 'bs=1M', 'count=4']);
      await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
      const since = new Date();

      let status = await waitForRunAfter(volume, since);
      // The schedule fires every 5 s: a run that began as the container started did not see it. The next does.
      if (!status.lastRun?.stopped.includes(app)) status = await waitForRunAfter(volume, new Date(Date.parse(status.lastRun?.time ?? '') + 2_000));
      assert.deepEqual(status.lastRun?.stopped, [app]);
      assert.equal(status.lastRun?.result, 'failed');
      assert.match(status.lastRun?.error ?? '', /no space left on device/i);
      assert.ok(stoppedThenStarted(await containerEvents(app, since)), 'stopped, then started again');
      await waitUntilRunning(app, 'the app runs again after the failed run');
      assert.deepEqual(await completeArchives(volume, tiny), []);
      assert.deepEqual(await allArchiveFiles(volume, tiny), [], 'the partial archive is removed');
    });
  });
});
