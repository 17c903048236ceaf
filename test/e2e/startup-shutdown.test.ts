import assert from 'node:assert/strict';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitUntilRunning } from '../helpers/backup-status';
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
