import assert from 'node:assert/strict';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  completeArchives,
  extractWithStandardTools,
  HOST_ARCHIVE_DIR,
  readManifest,
  waitForArchiveAfter,
  waitForArchives,
} from '../helpers/archives';
import { backupStatus, waitForRunAfter } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { hostVolumeDir, installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { assertSameTree } from '../helpers/tree-compare';
import { useUniquePrefix } from '../helpers/unique-prefix';

/** Archives keep mtimes to the second (ustar), as GNU tar does by default. */
const SECOND_NS = 1_000_000_000n;

const FILL = [
  'mkdir -p /data/docs/deep /data/empty',
  'seq 1 5000 > /data/docs/numbers',
  'echo secret > /data/docs/deep/private && chmod 600 /data/docs/deep/private',
  'ln -s docs/numbers /data/link',
  'dd if=/dev/urandom of=/data/random bs=1024 count=2048 2>/dev/null',
].join(' && ');

describe('snapshot modes and retention', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  for (const mode of ['sync', 'copy', 'direct']) {
    it(`${mode} mode archives exactly the volume's tree and reports its downtime`, async () => {
      const volume = `${prefix}${mode}`;
      const app = `${prefix}${mode}-app`;
      await docker(['volume', 'create', '-d', PLUGIN, '-o', `backup-snapshot=${mode}`, '-o', 'backup-schedule=*/4 * * * * *', volume]);
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
      await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
      const since = new Date();

      const archive = await waitForArchiveAfter(volume, since);
      const status = await waitForRunAfter(volume, since);
      const tree = await extractWithStandardTools(volume, archive);
      try {
        await assertSameTree(join(hostVolumeDir(volume), 'data'), tree, { mtimeToleranceNs: SECOND_NS });
      } finally {
        await rm(tree, { recursive: true, force: true });
      }
      const manifest = await readManifest(volume, archive);
      assert.equal(manifest.snapshotMode, mode);
      assert.deepEqual(manifest.stopped.containers, [app]);
      assert.ok(manifest.durations.downtimeMs > 0 && manifest.durations.downtimeMs <= manifest.durations.totalMs);
      assert.equal(status.lastRun?.snapshot, mode);
      assert.equal(typeof status.lastRun?.downtimeMs, 'number');
    });
  }

  it('keep-last N keeps only the newest N complete archives', async () => {
    const volume = `${prefix}keep2`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-retention=2', '-o', 'backup-schedule=*/3 * * * * *', volume]);
    await writeFile(join(hostVolumeDir(volume), 'data', 'file'), 'x');
    const since = new Date();
    // At one run every 3 s, a successful run that started 9 s later is at least the fourth.
    // Without pruning there would be four or more by then; a run in progress may briefly show a third.
    await eventually('two archives left after the fourth run of keep2', async () => {
      const lastRun = (await backupStatus(volume)).lastRun;
      const fourth = lastRun?.result === 'success' && Date.parse(lastRun.time) >= since.getTime() + 9_000;
      return fourth && (await completeArchives(volume)).length === 2;
    }, 90_000);
    assert.ok((await backupStatus(volume)).archives >= 2);
  });

  it('age and calendar retention prune older archives and keep the newest', async () => {
    const aged = `${prefix}aged`;
    const calendar = `${prefix}calendar`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-retention=30d', '-o', 'backup-schedule=*/5 * * * * *', aged]);
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-retention=daily=2', '-o', 'backup-schedule=*/5 * * * * *', calendar]);
    const [agedFirst] = await waitForArchives(aged, 1);
    const [calendarFirst] = await waitForArchives(calendar, 1);

    // Archives from long ago, planted as earlier runs would have left them.
    const plant = async (volume: string, from: string, stamp: string) => {
      const name = `${volume}-${stamp}.tar.gz`;
      await copyFile(join(HOST_ARCHIVE_DIR, volume, from), join(HOST_ARCHIVE_DIR, volume, name));
      const manifest = await readManifest(volume, from);
      const created = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}.000Z`;
      await writeFile(join(HOST_ARCHIVE_DIR, volume, `${name}.json`), JSON.stringify({ ...manifest, archive: name, created }));
      return name;
    };
    const old = await plant(aged, agedFirst, '20200101T000000Z');
    const recent = await plant(aged, agedFirst, new Date(Date.now() - 86_400_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z'));
    const day1 = await plant(calendar, calendarFirst, '20200101T000000Z');
    const day2 = await plant(calendar, calendarFirst, '20200102T000000Z');
    const day3 = await plant(calendar, calendarFirst, '20200103T120000Z');
    const since = new Date();

    await waitForArchiveAfter(aged, since);
    await waitForArchiveAfter(calendar, since);
    await waitForRunAfter(aged, since);
    await waitForRunAfter(calendar, since);
    const agedLeft = await completeArchives(aged);
    assert.ok(!agedLeft.includes(old), 'an archive older than 30 days is pruned');
    assert.ok(agedLeft.includes(recent), 'a day-old archive is kept');
    const calendarLeft = await completeArchives(calendar);
    assert.ok(!calendarLeft.includes(day1) && !calendarLeft.includes(day2), 'older days are pruned');
    assert.ok(calendarLeft.includes(day3), 'the newest archive of the second newest day is kept');
    assert.equal(calendarLeft.length, 2, `kept: ${calendarLeft.join(', ')}`);
  });
});
