import assert from 'node:assert/strict';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allArchiveFiles } from '../helpers/archives';
import { isRunning, waitUntilRunning } from '../helpers/backup-status';
import { backupvolCli } from '../helpers/host-cli';
import { docker, dockerFailure } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { markEngineLog, pluginLogSince } from '../helpers/engine-log';
import { HOST_DATA_DIR, PLUGIN, enablePlugin, installFreshPlugin, pluginEnabled, pluginId } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

describe('plugin start and stop leave no container down', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('refuses to stop a container started with --rm, naming it, and leaves it running', async () => {
    const volume = `${prefix}autorm`;
    const app = `${prefix}autorm-app`;
    await docker(['volume', 'create', '-d', PLUGIN, volume]);
    await docker(['run', '-d', '--rm', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);

    const outcome = await backupvolCli(['backup', volume]);

    assert.equal(outcome.code, 1, outcome.stdout);
    assert.match(outcome.stdout + outcome.stderr, new RegExp(`container ${app} mounts the volume and was started with --rm`));
    assert.ok(await isRunning(app), 'the --rm container was not stopped (and so not removed)');
    await docker(['stop', '-t', '1', app]);
  });

  describe('docker plugin disable -f during a direct-mode run', () => {
    after(async () => {
      if (!(await pluginEnabled())) await enablePlugin();
    });

    it('brings the stopped container back before the plugin exits, within 5 s', async () => {
      const volume = `${prefix}sigterm`;
      const app = `${prefix}sigterm-app`;
      await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-snapshot=direct', volume]);
      // Random data archives slowly enough (direct mode: the app is down for the whole archive) to be caught.
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'dd', 'if=/dev/urandom', 'of=/data/random', 'bs=1M', 'count=400']);
      await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
      const run = backupvolCli(['backup', volume]);
      await eventually('the app is stopped by the backup in progress', async () =>
        (await allArchiveFiles(volume)).some((name) => name.startsWith('.partial-')) && !(await isRunning(app)),
      90_000);

      const started = Date.now();
      await docker(['plugin', 'disable', '-f', PLUGIN]);
      const tookMs = Date.now() - started;
      await run;

      assert.ok(await isRunning(app), 'the app runs again, with the plugin disabled');
      assert.ok(tookMs < 8_000, `the disable took ${tookMs} ms (the plugin exits within 5 s of SIGTERM)`);
      assert.ok(!(await allArchiveFiles(volume)).some((name) => !name.startsWith('.partial-')), 'nothing that looks complete');
    });
  });

  describe('a start that fails on a bad TZ', () => {
    const journalFile = join(HOST_DATA_DIR, 'journal', `${prefix}tz.json`);

    after(async () => {
      await rm(journalFile, { force: true });
      if (!(await pluginEnabled())) {
        await docker(['plugin', 'set', PLUGIN, 'TZ=UTC']);
        // The engine takes a while to drop the container of the failed start ("id already in use").
        await eventually('the plugin enables again', async () => (await pluginEnabled()) || enablePlugin().then(() => true), 60_000);
      }
    });

    it('fails with a clear error, and still starts what the journal of an earlier run holds', async () => {
      // Before the fix, only a scheduled volume made the bad zone crash the start (in node-cron).
      await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=@daily', `${prefix}tz`]);
      const app = `${prefix}tz-app`;
      await docker(['run', '-d', '--name', app, TEST_IMAGE, ...IDLE]);
      const id = (await docker(['inspect', '--format', '{{.Id}}', app])).trim();
      await docker(['plugin', 'disable', '-f', PLUGIN]);
      // What a run killed while the app was stopped leaves behind (the plugin's journal format).
      await docker(['stop', '-t', '1', app]);
      await mkdir(join(HOST_DATA_DIR, 'journal'), { recursive: true });
      await writeFile(
        journalFile,
        JSON.stringify({ volume: `${prefix}tz`, stoppedAt: new Date().toISOString(), containers: [{ id, name: app, restart: true }], services: [] }),
      );
      await docker(['plugin', 'set', PLUGIN, 'TZ=Bad/Zone']);
      const mark = await markEngineLog();

      await dockerFailure(['plugin', 'enable', '--timeout', '60', PLUGIN]);

      const log = (await pluginLogSince(mark, [await pluginId()])).join('\n');
      assert.match(log, /setting TZ=Bad\/Zone is not a time zone/);
      await waitUntilRunning(app, 'brought back by the failed start');
      await eventually('the journal entry is done with', async () =>
        access(journalFile).then(() => false, () => true),
      );
    });
  });
});
