import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { RunRecord } from '../../src/vocabulary/run-record';
import type { RunningStatus } from '../../src/runs/run-progress';
import { backupStatus } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

/** Random data does not compress: its archive takes seconds to write, long enough to watch. */
const FILL = 'for n in 1 2 3 4; do dd if=/dev/urandom of=/data/random-$n bs=1M count=64 2>/dev/null; done';

describe('the progress of a running backup', { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('shows in docker volume inspect and backupvol ls while it runs: phase, growing bytes of the total, an ETA', async () => {
    const volume = `${prefix}slow`;
    await docker(['volume', 'create', '-d', PLUGIN, volume]);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
    // The first archive's size is the next one's expected total.
    const first = await backupvolJson<RunRecord>(['backup', volume]);
    assert.equal(first.result, 'success', first.error);

    const running = backupvolJson<RunRecord>(['backup', volume]);
    let finished = false;
    void running.finally(() => (finished = true)).catch(() => undefined);
    const seen: RunningStatus[] = [];
    let listed = '';
    while (!finished) {
      const progress = ((await backupStatus(volume)) as unknown as { progress?: RunningStatus }).progress;
      if (progress?.phase === 'archive' && progress.bytes !== undefined) {
        seen.push(progress);
        if (!listed) listed = (await backupvolCli(['ls'])).stdout;
      }
    }
    const record = await running;
    assert.equal(record.result, 'success', record.error);

    assert.ok(seen.length >= 2, `${seen.length} looks at the archive phase`);
    const [early, late] = [seen[0], seen[seen.length - 1]];
    assert.equal(early.activity, 'backup');
    assert.equal(early.totalBytes, first.bytes, 'the total is the previous archive of the kind');
    assert.ok((late.bytes ?? 0) > (early.bytes ?? 0), `bytes grow: ${early.bytes} then ${late.bytes}`);
    assert.ok(seen.some((status) => typeof status.etaSeconds === 'number'), 'an ETA is given');
    assert.match(listed, new RegExp(`${volume}.*backup: archive \\d+%`));
    assert.equal(((await backupStatus(volume)) as unknown as { progress?: RunningStatus }).progress, undefined, 'gone once the run ended');
  });
});
