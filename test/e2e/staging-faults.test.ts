import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { extractWithStandardTools } from '../helpers/archives';
import { backupStatus } from '../helpers/backup-status';
import { docker, run } from '../helpers/docker-cli';
import { backupvolJson } from '../helpers/host-cli';
import { enablePlugin, HOST_DATA_DIR, hostVolumeDir, installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

interface RunRecord {
  result: string;
  archive?: string;
  error?: string;
  snapshotMode?: string;
  fellBackReason?: string;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function stagingDir(volume: string): string {
  return join(HOST_DATA_DIR, 'staging', volume);
}

describe('sync snapshots: hard links, sparse files, a staging filesystem that is too small', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();
  const mounted: string[] = [];

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  after(async () => {
    for (const path of mounted) await run('umount', [path]).catch(() => undefined);
  });

  it('keeps hard links and the content of sparse files: tar -x restores the same link count and bytes', async () => {
    const volume = `${prefix}links`;
    const app = `${prefix}links-app`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-snapshot=sync', volume]);
    try {
      const fill = [
        'mkdir -p /data/a /data/b',
        'echo shared content > /data/a/original',
        'ln /data/a/original /data/b/second-name',
        'ln /data/a/original /data/third-name',
        'truncate -s 64M /data/sparse',
        'echo middle | dd of=/data/sparse bs=1 seek=33554432 conv=notrunc 2>/dev/null',
      ].join(' && ');
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', fill]);
      await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
      // Twice: the first run makes the mirror, the second brings a kept mirror up to date.
      for (const round of ['first', 'second']) {
        const record = await backupvolJson<RunRecord>(['backup', volume]);
        assert.equal(record.result, 'success', `${round}: ${record.error}`);
        assert.equal(record.snapshotMode, 'sync');
        const tree = await extractWithStandardTools(volume, record.archive as string);
        try {
          const names = ['a/original', 'b/second-name', 'third-name'];
          const stats = await Promise.all(names.map((name) => stat(join(tree, name))));
          assert.deepEqual(stats.map((entry) => entry.nlink), [3, 3, 3], `${round}: three names, one file`);
          assert.equal(new Set(stats.map((entry) => entry.ino)).size, 1);
          const data = join(hostVolumeDir(volume), 'data');
          assert.equal((await stat(join(tree, 'sparse'))).size, 64 * 1024 * 1024);
          assert.equal(await sha256Of(join(tree, 'sparse')), await sha256Of(join(data, 'sparse')));
        } finally {
          await rm(tree, { recursive: true, force: true });
        }
      }
    } finally {
      await docker(['rm', '-f', app]).catch(() => undefined);
      await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
    }
  });

  it('falls back to direct on a staging filesystem too small for the mirror, and leaves no mirror behind', async () => {
    const volume = `${prefix}small-staging`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-snapshot=sync', volume]);
    const staging = stagingDir(volume);
    try {
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', 'dd if=/dev/zero of=/data/big bs=1M count=24 2>/dev/null']);
      // The plugin sees the host's mounts as they were when it was enabled.
      await docker(['plugin', 'disable', '-f', PLUGIN]);
      await mkdir(staging, { recursive: true });
      await run('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', staging]);
      mounted.push(staging);
      await enablePlugin();

      const record = await backupvolJson<RunRecord>(['backup', volume]);
      assert.equal(record.result, 'success', record.error);
      assert.equal(record.snapshotMode, 'direct');
      assert.match(record.fellBackReason ?? '', /not enough room in .* for a copy of the volume.*took a direct snapshot instead/);
      assert.deepEqual(await readdir(staging), [], 'no mirror or copy on the full filesystem');
      const status = (await backupStatus(volume)) as unknown as { lastRun: { snapshot: string; fellBack?: string } };
      assert.equal(status.lastRun.snapshot, 'direct');
      assert.match(status.lastRun.fellBack ?? '', /took a direct snapshot instead/, 'docker volume inspect says which');
    } finally {
      await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
      await run('umount', [staging]).catch(() => undefined);
      mounted.splice(mounted.indexOf(staging), 1);
      await rm(staging, { recursive: true, force: true });
    }
  });
});
