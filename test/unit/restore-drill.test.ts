import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { drillRestore } from '../../src/runs/restore/drill';
import { TargetSet } from '../../src/targets/target-set';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { parseOwnRestoreSource } from '../../src/vocabulary/restore-source';
import { setUpRuns } from './runs-fixtures';

/** Volume `v` of runs-fixtures.ts with one archive made by a real run; the drill's scratch folder. */
async function backedUp() {
  const setup = await setUpRuns();
  // The volume's schedule would keep the process alive.
  after(() => setup.scheduler.stopAll());
  await setup.runs.volumes.volumeAdded(setup.volume);
  const record = await setup.runs.backups.run('v', 'manual');
  assert.equal(record.result, 'success', record.error);
  const reader = new TargetSet(join(setup.dir, 'archive'), loadRemoteSettings({})).reader(['local']);
  return { ...setup, archive: record.archive as string, reader, scratchDir: join(setup.dir, 'drill-scratch') };
}

const missing = (path: string) => stat(path).then(() => false, () => true);

describe('drillRestore', () => {
  it('restores the point into scratch, checks it, reports time and size, and keeps nothing', async () => {
    const { reader, archive, scratchDir, volumesDir } = await backedUp();
    const before = await readFile(join(volumesDir, 'v', 'data', 'file.txt'), 'utf8');
    const progress: number[] = [];
    const record = await drillRestore(reader, {
      source: parseOwnRestoreSource('latest', 'v'),
      trigger: 'manual',
      scratchDir,
      encryption: [],
      onProgress: (_archive, bytes) => progress.push(bytes),
    });
    assert.equal(record.result, 'ok', record.error);
    assert.deepEqual({ archive: record.archive, chain: record.chain, target: record.target, fileCount: record.fileCount, bytes: record.bytes }, {
      archive,
      chain: [archive],
      target: 'local',
      fileCount: 1,
      bytes: 'content'.length,
    });
    assert.ok(record.seconds >= 0 && typeof record.mbPerSecond === 'number');
    assert.ok(progress.length > 0, 'progress was reported');
    assert.ok(await missing(scratchDir), 'the scratch copy is deleted');
    assert.equal(await readFile(join(volumesDir, 'v', 'data', 'file.txt'), 'utf8'), before, 'the volume is untouched');
  });

  it('fails, naming the archive, when it is corrupt; the scratch copy goes too', async () => {
    const { reader, archive, scratchDir, dir } = await backedUp();
    const [folder] = await readdir(join(dir, 'archive'));
    const path = join(dir, 'archive', folder, archive);
    const bytes = await readFile(path);
    bytes[bytes.length - 12] ^= 0xff;
    await writeFile(path, bytes);
    const record = await drillRestore(reader, { source: parseOwnRestoreSource('latest', 'v'), trigger: 'schedule', scratchDir, encryption: [] });
    assert.equal(record.result, 'failed');
    assert.equal(record.trigger, 'schedule');
    assert.match(record.error ?? '', new RegExp(archive.replace(/\./g, '\\.')));
    assert.ok(await missing(scratchDir), 'the scratch copy is deleted');
  });

  it('fails clearly when the volume has no such point', async () => {
    const { reader, scratchDir } = await backedUp();
    const record = await drillRestore(reader, { source: parseOwnRestoreSource('v-20200101T000000Z.tar.gz', 'v'), trigger: 'manual', scratchDir, encryption: [] });
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /v-20200101T000000Z\.tar\.gz/);
  });
});
