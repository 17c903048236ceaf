import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { docker, dockerFailure } from '../helpers/docker-cli';
import { PLUGIN, hostVolumeDir, installFreshPlugin, isPluginDriver } from '../helpers/plugin';
import { assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { inspectVolume, volumeNames } from '../helpers/volumes';

describe('docker volume create -d backupvol', { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('creates a volume whose inspect shows the driver, the options and a Status', async () => {
    const name = `${prefix}scheduled`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=0 3 * * *', name]);

    const volume = await inspectVolume(name);
    assert.ok(isPluginDriver(volume.Driver), `Driver is ${volume.Driver}`);
    assert.deepEqual(volume.Options, { 'backup-schedule': '0 3 * * *' });
    assert.ok(volume.Status && Object.keys(volume.Status).length > 0, `Status is ${JSON.stringify(volume.Status)}`);
    assert.match(JSON.stringify(volume.Status), /0 3 \* \* \*/, 'the Status shows the schedule');
    assert.ok(existsSync(join(hostVolumeDir(name), 'volume.json')), 'the state is on the host');
    assert.ok(existsSync(join(hostVolumeDir(name), 'data')), 'the data folder is on the host');
  });

  it('refuses a schedule with minute 61, naming the key', async () => {
    const name = `${prefix}bad-schedule`;
    const failure = await dockerFailure(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=61 * * * *', name]);
    assert.match(failure.stderr, /backup-schedule/);
    assert.ok(!(await volumeNames()).includes(name), 'no volume is left behind');
    assert.ok(!existsSync(hostVolumeDir(name)), 'no host folder is left behind');
  });

  it('refuses an unknown option, naming the key', async () => {
    const name = `${prefix}unknown-option`;
    const failure = await dockerFailure(['volume', 'create', '-d', PLUGIN, '-o', 'bogus=1', name]);
    assert.match(failure.stderr, /bogus/);
    assert.ok(!(await volumeNames()).includes(name), 'no volume is left behind');
  });
});
