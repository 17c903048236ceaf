import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { DrillRecord, RunRecord } from '../../src/vocabulary/run-record';
import { HOST_ARCHIVE_DIR } from '../helpers/archives';
import { backupStatus, containerEvents, isRunning } from '../helpers/backup-status';
import { docker, run } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { hostVolumeDir, installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { assertSameTree } from '../helpers/tree-compare';
import { useUniquePrefix } from '../helpers/unique-prefix';

const FILL = 'mkdir -p /data/docs && seq 1 20000 > /data/docs/numbers && echo one > /data/a.txt && dd if=/dev/urandom of=/data/random bs=1024 count=256 2>/dev/null';
const CHANGE = 'echo two > /data/b.txt && rm /data/a.txt';

type DrillStatus = { lastDrill?: DrillRecord; drill?: { schedule: string; next: string | null } };

const missing = (path: string) => stat(path).then(() => false, () => true);

/** A copy of the volume's tree, to show afterwards that the drill did not touch it. */
async function snapshotOf(volume: string): Promise<string> {
  const copy = join('/tmp', `bvt-drill-${volume}`);
  await rm(copy, { recursive: true, force: true });
  await run('cp', ['-a', join(hostVolumeDir(volume), 'data'), copy]);
  return copy;
}

/** A volume with a chain (a full archive and one incremental) and a container running on it. */
async function chainWithApp(volume: string, app: string, options: string[] = []): Promise<string[]> {
  await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-full-every=4', ...options, volume]);
  await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
  const full = await backupvolJson<RunRecord>(['backup', volume]);
  await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', CHANGE]);
  const incremental = await backupvolJson<RunRecord>(['backup', volume]);
  assert.equal(incremental.kind, 'incremental', incremental.error);
  await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
  return [full.archive as string, incremental.archive as string];
}

describe('restore drills', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('a drill of a good chain is ok, says how long it took, and touches neither the volume nor its container', async () => {
    const volume = `${prefix}good`;
    const app = `${prefix}good-app`;
    const chain = await chainWithApp(volume, app);
    const before = await snapshotOf(volume);
    const since = new Date();

    const record = await backupvolJson<DrillRecord>(['drill', volume]);
    assert.equal(record.result, 'ok', record.error);
    assert.deepEqual(record.chain, chain);
    assert.equal(record.archive, chain[1]);
    assert.equal(record.target, 'local');
    assert.ok(record.seconds > 0 && (record.mbPerSecond ?? -1) >= 0, JSON.stringify(record));
    assert.ok((record.fileCount ?? 0) >= 3, `${record.fileCount} files restored`);

    const text = await backupvolCli(['drill', volume, '--from', chain[0]]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`Drill of ${volume} ok: ${chain[0]} \\(1 archive\\(s\\) from local\\) restored and checked in [\\d.]+ s`));

    assert.deepEqual(await containerEvents(app, since), [], 'the container was neither stopped nor started');
    assert.ok(await isRunning(app));
    await assertSameTree(before, join(hostVolumeDir(volume), 'data'));
    await rm(before, { recursive: true, force: true });
    assert.ok(await missing(join(hostVolumeDir(volume), 'drill-scratch')), 'the scratch copy is gone');
    const status = (await backupStatus(volume)) as unknown as DrillStatus;
    assert.equal(status.lastDrill?.result, 'ok');
    assert.equal(status.lastDrill?.archive, chain[0]);
  });

  it('a drill of a chain with a corrupt link fails, naming it; the volume and its running container are untouched', async () => {
    const volume = `${prefix}corrupt`;
    const app = `${prefix}corrupt-app`;
    const chain = await chainWithApp(volume, app);
    const path = join(HOST_ARCHIVE_DIR, volume, chain[0]);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(path, bytes);
    const before = await snapshotOf(volume);
    const since = new Date();

    const outcome = await backupvolCli(['drill', volume, '--json']);
    assert.equal(outcome.code, 1, outcome.stderr);
    const record = JSON.parse(outcome.stdout) as DrillRecord;
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', new RegExp(chain[0].replace(/\./g, '\\.')));

    assert.deepEqual(await containerEvents(app, since), [], 'the container was neither stopped nor started');
    assert.ok(await isRunning(app));
    await assertSameTree(before, join(hostVolumeDir(volume), 'data'));
    await rm(before, { recursive: true, force: true });
    const status = (await backupStatus(volume)) as unknown as DrillStatus;
    assert.equal(status.lastDrill?.result, 'failed');
  });

  it('backup-drill runs drills on its schedule and updates lastDrill', async () => {
    const volume = `${prefix}scheduled`;
    const app = `${prefix}scheduled-app`;
    const chain = await chainWithApp(volume, app, ['-o', 'backup-drill=*/3 * * * * *']);
    let status: DrillStatus = {};
    // Drills ran while the chain was made too: the newest one drills its newest point.
    await eventually('a scheduled drill of the newest point ran', async () => {
      status = (await backupStatus(volume)) as unknown as DrillStatus;
      return status.lastDrill?.trigger === 'schedule' && status.lastDrill.archive === chain[1];
    }, 60_000);
    assert.equal(status.lastDrill?.result, 'ok', status.lastDrill?.error);
    assert.equal(status.drill?.schedule, '*/3 * * * * *');
    assert.ok(await isRunning(app));
  });
});
