import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { extractWithStandardTools, HOST_ARCHIVE_DIR, readManifest, waitForArchiveAfter } from '../helpers/archives';
import { backupStatus, containerEvents, stoppedThenStarted, waitForRunAfter, waitUntilRunning } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { hostVolumeDir, installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { assertSameTree } from '../helpers/tree-compare';
import { useUniquePrefix } from '../helpers/unique-prefix';

/** Archives keep mtimes to the second (ustar), as GNU tar does by default. */
const SECOND_NS = 1_000_000_000n;

/** Resumes from its counter after a restart; every seq-N file is written once, then the counter. */
const WRITER = 'trap "exit 0" TERM; i=$(cat /data/counter 2>/dev/null || echo 0); while true; do i=$((i+1)); echo $i > /data/seq-$i; echo $i > /data/counter; sleep 0.05; done';

describe('scheduled backups to the local target', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('stops the writer, archives the volume as it was at the stop, starts the writer again', async () => {
    const volume = `${prefix}counter`;
    const writer = `${prefix}writer`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=*/6 * * * * *', volume]);
    await docker(['run', '-d', '--name', writer, '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', WRITER]);
    const since = new Date();

    const archive = await waitForArchiveAfter(volume, since);
    const status = await waitForRunAfter(volume, since);
    await waitUntilRunning(writer, 'the writer runs again after the backup');
    assert.ok(stoppedThenStarted(await containerEvents(writer, since)), 'stopped, then started again');

    const tree = await extractWithStandardTools(volume, archive);
    try {
      const names = await readdir(tree);
      const sequence = names.filter((name) => name.startsWith('seq-')).map((name) => Number(name.slice(4)));
      const highest = Math.max(...sequence);
      assert.deepEqual(names.filter((name) => !name.startsWith('seq-')), ['counter']);
      assert.equal(sequence.length, highest, 'seq files are contiguous from 1: nothing written after the stop');
      const counter = Number(await readFile(join(tree, 'counter'), 'utf8'));
      assert.ok(counter === highest || counter === highest - 1, `counter ${counter} matches the last file ${highest}`);
      for (const n of [1, Math.ceil(highest / 2), highest]) {
        assert.equal(await readFile(join(tree, `seq-${n}`), 'utf8'), `${n}\n`);
      }
      assert.ok(highest >= 1, 'the writer had written before the stop');
    } finally {
      await rm(tree, { recursive: true, force: true });
    }

    const manifest = await readManifest(volume, archive);
    const bytes = await readFile(join(HOST_ARCHIVE_DIR, volume, archive));
    assert.equal(manifest.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(manifest.bytes, bytes.length);
    assert.equal(manifest.volume, volume);
    assert.equal(manifest.quiesced, true);
    assert.deepEqual(manifest.stopped.containers, [writer]);
    assert.ok(manifest.fileCount > 3);

    assert.equal(status.schedule, '*/6 * * * * *');
    assert.equal(status.target, 'local');
    assert.equal(status.quiesced, true);
    assert.ok(status.nextRun && Date.parse(status.nextRun) > since.getTime());
    assert.ok(status.archives >= 1);
    const lastRun = status.lastRun!;
    assert.equal(lastRun.result, 'success', `last run: ${JSON.stringify(lastRun)}`);
    assert.match(lastRun.archive ?? '', new RegExp(`^${volume}-\\d{8}T\\d{6}Z\\.tar\\.gz$`));
    assert.equal(lastRun.error, null);
    assert.equal(lastRun.snapshot, 'sync');
    assert.ok(typeof lastRun.downtimeMs === 'number' && lastRun.downtimeMs >= 0);
    assert.ok(lastRun.durationMs >= (lastRun.downtimeMs ?? 0));
    assert.deepEqual(lastRun.stopped, [writer]);
  });

  it('writes zstd archives that zstd -d | tar -x opens into the same tree', async () => {
    const volume = `${prefix}zstd`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-compression=zstd', '-o', 'backup-schedule=*/5 * * * * *', volume]);
    await docker([
      'run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c',
      'mkdir -p /data/a/b /data/empty && echo hello > /data/a/b/c.txt && chmod 600 /data/a/b/c.txt && ln -s a/b/c.txt /data/link && seq 1 20000 > /data/numbers',
    ]);
    const archive = await waitForArchiveAfter(volume, new Date());
    assert.match(archive, /\.tar\.zst$/);
    const tree = await extractWithStandardTools(volume, archive);
    try {
      await assertSameTree(join(hostVolumeDir(volume), 'data'), tree, { mtimeToleranceNs: SECOND_NS });
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
    assert.ok((await stat(join(HOST_ARCHIVE_DIR, volume, `${archive}.json`))).isFile());
    assert.equal((await backupStatus(volume)).lastRun?.result, 'success');
  });
});
