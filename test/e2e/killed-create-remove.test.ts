import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { backupvolJson } from '../helpers/host-cli';
import { HOST_DATA_DIR, hostVolumeDir, installFreshPlugin, PLUGIN, killPlugin, waitForPluginRestart } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { assertSameTree } from '../helpers/tree-compare';
import { useUniquePrefix } from '../helpers/unique-prefix';

/** Many files of random data: slow enough to extract and to delete for a kill to land in the middle. */
const FILL = 'for d in 1 2 3 4 5 6; do mkdir -p /data/d$d && for f in $(seq 1 100); do dd if=/dev/urandom of=/data/d$d/f$f bs=64k count=16 2>/dev/null; done; done';

/** Kills the plugin once `ready()` holds, and waits until the engine has started a new one. */
async function killPluginWhen(what: string, ready: () => boolean): Promise<void> {
  await eventually(what, async () => ready(), 60_000, 10);
  await waitForPluginRestart(await killPlugin());
  await eventually('the restarted plugin answers', async () => {
    await backupvolJson(['ls']);
    return true;
  }, 60_000);
}

describe('a plugin killed during Create with restore-from, and during Remove', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();
  const source = `${prefix}kc-source`;
  const restored = `${prefix}kc-restored`;

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-compression=none', source]);
    await docker(['run', '--rm', '-v', `${source}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
    const record = await backupvolJson<{ result: string; error?: string }>(['backup', source]);
    assert.equal(record.result, 'success', record.error);
  });

  after(async () => {
    for (const volume of [restored, source]) await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
  });

  it('Create with restore-from killed mid-restore: no half volume; Create again restores it whole', async () => {
    const staging = join(hostVolumeDir(restored), 'restore-staging');
    const create = docker(['volume', 'create', '-d', PLUGIN, '-o', `restore-from=${source}@latest`, restored]).then(
      () => 'created',
      (error: Error) => error.message,
    );
    await killPluginWhen('the restore is being extracted', () => existsSync(join(staging, 'd3')));
    assert.notEqual(await create, 'created', 'the interrupted Create did not succeed');
    const names = (await docker(['volume', 'ls', '-q'])).split('\n');
    assert.ok(!names.includes(restored), 'no volume that looks restored but is empty');

    await docker(['volume', 'create', '-d', PLUGIN, '-o', `restore-from=${source}@latest`, restored]);
    await assertSameTree(join(hostVolumeDir(source), 'data'), join(hostVolumeDir(restored), 'data'), { mtimeToleranceNs: 1_000_000_000n });
    assert.equal(existsSync(staging), false, 'no staging left behind');
  });

  it('Remove killed while the data is deleted: a new volume of the name starts empty; nothing is left behind', async () => {
    const data = join(hostVolumeDir(restored), 'data');
    assert.ok((await readdir(data)).length > 0);
    const trash = join(HOST_DATA_DIR, 'trash');
    await docker(['volume', 'rm', restored]);
    // Remove answers once the volume's folder is in the trash; the deletion goes on in the background.
    await killPluginWhen('the removed data is being deleted', () => existsSync(trash));
    await docker(['volume', 'create', '-d', PLUGIN, restored]);
    assert.deepEqual(await readdir(data), [], 'the new volume inherits nothing');
    await eventually('the trash is emptied by the restarted plugin', async () => (await readdir(trash).catch(() => [])).length === 0, 120_000);
  });
});
