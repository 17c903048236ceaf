import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allArchiveFiles, completeArchives, extractWithStandardTools } from '../helpers/archives';
import { isRunning, waitUntilRunning } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { hostVolumeDir, installFreshPlugin, PLUGIN, killPlugin } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { assertSameTree } from '../helpers/tree-compare';
import { useUniquePrefix } from '../helpers/unique-prefix';

/** Archives keep mtimes to the second (ustar), as GNU tar does by default. */
const SECOND_NS = 1_000_000_000n;

describe('a plugin killed during the quiesced pass of a sync snapshot', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();
  const volume = `${prefix}midsync`;
  const writer = `${prefix}midsync-writer`;

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  after(async () => {
    await docker(['rm', '-f', writer]).catch(() => undefined);
    await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
  });

  it('brings the writer back, leaves no complete archive, and the next backup is right', async () => {
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-snapshot=sync', volume]);
    // A writer that keeps rewriting 400 MiB: whatever the live pass copied has changed again by the stop,
    // so the quiesced pass copies it again, which takes long enough to be caught.
    const rewrite = 'trap "exit 0" TERM; while true; do dd if=/dev/zero of=/data/busy bs=1M count=400 2>/dev/null; done';
    await docker(['run', '-d', '--name', writer, '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', rewrite]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    // The pass lasts about a second: a run that ended before it was caught is simply tried again.
    let interrupted: Promise<{ code: number }> | undefined;
    let before: string[] = [];
    for (let attempt = 1; interrupted === undefined; attempt++) {
      assert.ok(attempt <= 3, 'the quiesced pass was caught within 3 backups');
      before = await completeArchives(volume);
      let ended = false;
      const backup = backupvolCli(['backup', volume]).finally(() => (ended = true));
      await eventually('the writer stopped before any archive was begun, or the run ended', async () => {
        if (ended) return true;
        const begun = (await allArchiveFiles(volume)).some((name) => name.startsWith('.partial-'));
        return !begun && !(await isRunning(writer));
      }, 120_000, 20);
      if (ended) {
        await waitUntilRunning(writer, 'the writer runs again before the next attempt');
        continue;
      }
      await killPlugin();
      interrupted = backup;
    }
    assert.notEqual((await interrupted).code, 0, 'the interrupted backup did not succeed');

    await waitUntilRunning(writer, 'the restarted plugin starts the writer again');
    assert.deepEqual(await completeArchives(volume), before, 'the interrupted run left nothing that looks complete');

    // The next run repairs the half-updated mirror: its archive is the volume as it was while stopped.
    await docker(['stop', writer]);
    const record = await backupvolJson<{ result: string; archive?: string; error?: string; snapshotMode?: string }>(['backup', volume]);
    assert.equal(record.result, 'success', record.error);
    assert.equal(record.snapshotMode, 'sync');
    const tree = await extractWithStandardTools(volume, record.archive as string);
    try {
      await assertSameTree(join(hostVolumeDir(volume), 'data'), tree, { mtimeToleranceNs: SECOND_NS });
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});
