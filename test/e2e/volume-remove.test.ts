import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { docker } from '../helpers/docker-cli';
import { PLUGIN, hostVolumeDir, installFreshPlugin } from '../helpers/plugin';
import { assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { volumeNames, writeInVolume } from '../helpers/volumes';

describe('docker volume rm', { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('deletes the volume and its data on the host', async () => {
    const volume = `${prefix}doomed`;
    await docker(['volume', 'create', '-d', PLUGIN, volume]);
    await writeInVolume(volume, 'file.txt', 'soon gone\n');
    assert.ok(existsSync(join(hostVolumeDir(volume), 'data', 'file.txt')), 'the data is on the host first');

    await docker(['volume', 'rm', volume]);

    assert.ok(!existsSync(hostVolumeDir(volume)), `${hostVolumeDir(volume)} is gone`);
    assert.ok(!(await volumeNames()).includes(volume), 'docker volume ls no longer lists it');
  });
});
