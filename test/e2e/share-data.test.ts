import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { docker } from '../helpers/docker-cli';
import { PLUGIN, hostPathOfMountpoint, hostVolumeDir, installFreshPlugin } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { inspectVolume, isMountOf, readInVolume, writeInVolume } from '../helpers/volumes';

describe('containers sharing a backupvol volume', { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('a second container reads the bytes the first one wrote', async () => {
    const volume = `${prefix}shared`;
    const content = `written by the first container ${randomUUID()}\n`;
    await docker(['volume', 'create', '-d', PLUGIN, volume]);

    await writeInVolume(volume, 'greeting.txt', content);

    assert.equal(await readInVolume(volume, 'greeting.txt'), content);
    assert.equal(await readFile(join(hostVolumeDir(volume), 'data', 'greeting.txt'), 'utf8'), content);
  });

  it('stays mounted for the container that remains when another one leaves', async () => {
    const volume = `${prefix}two-users`;
    const first = `${prefix}first`;
    const second = `${prefix}second`;
    const dataDir = join(hostVolumeDir(volume), 'data');
    await docker(['volume', 'create', '-d', PLUGIN, volume]);
    for (const name of [first, second]) {
      await docker(['run', '-d', '--name', name, '-v', `${volume}:/data`, TEST_IMAGE, 'sleep', '3600']);
    }
    const reported = (await inspectVolume(volume)).Mountpoint;
    assert.ok(reported !== '', 'a mounted volume has a Mountpoint');
    const mountpoint = await hostPathOfMountpoint(reported);
    assert.ok(await isMountOf(mountpoint, dataDir), `${mountpoint} is the volume's data folder while in use`);

    await docker(['exec', second, 'sh', '-c', 'echo from-second > /data/second.txt']);
    await docker(['rm', '-f', second]);

    assert.ok(await isMountOf(mountpoint, dataDir), `${mountpoint} is still mounted after one user left`);
    assert.equal(await docker(['exec', first, 'cat', '/data/second.txt']), 'from-second\n');
    await docker(['exec', first, 'sh', '-c', 'echo from-first > /data/first.txt']);
    assert.equal(await readInVolume(volume, 'first.txt'), 'from-first\n');
    assert.equal(await readFile(join(dataDir, 'first.txt'), 'utf8'), 'from-first\n');

    await docker(['rm', '-f', first]);
    // The bind stays while the volume exists (Mount is then bookkeeping only); Status says it is unused.
    assert.equal((await inspectVolume(volume)).Status?.mounted, false);
    assert.ok(await isMountOf(mountpoint, dataDir), `${mountpoint} stays bound to the data folder`);
    await docker(['volume', 'rm', volume]);
    assert.ok(!(await isMountOf(mountpoint, dataDir)), `${mountpoint} is unbound once the volume is removed`);
  });
});
