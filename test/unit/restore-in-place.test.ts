import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBackup } from '../../src/runs/backup/run-backup';
import { createSilentLogger } from '../../src/shared/logger';
import { StopJournal } from '../../src/engine/stop-journal';
import { restoreInPlace, type RestoreDeps } from '../../src/runs/restore/restore-in-place';
import { LocalTarget } from '../../src/targets/local-target';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import { VolumeStore } from '../../src/volumes/volume-store';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

const OPTIONS = parseVolumeOptions({ 'backup-snapshot': 'direct' }, { schedule: 'none', retention: '', encryption: 'none' });

/** A volume `v` in a store, backed up once with "old" content, then changed to "current". */
async function setUp() {
  const dir = await makeTempDir('restore-in-place');
  const store = new VolumeStore(join(dir, 'state'));
  await store.create({ name: 'v', createdAt: new Date().toISOString(), options: {}, mountIds: [] });
  const data = store.dataPath('v');
  await writeFile(join(data, 'file.txt'), 'backed up');
  const docker = new FakeDocker([container('app', { volumes: ['v'] })]);
  const deps: RestoreDeps = {
    docker,
    journal: new StopJournal(join(dir, 'state')),
    target: new LocalTarget(join(dir, 'archive')),
    stopTimeoutSeconds: 5,
    serviceStopTimeoutSeconds: 5,
    logger: createSilentLogger(),
  };
  const backup = await runBackup({ ...deps, targets: new TargetSet(join(dir, 'archive'), loadRemoteSettings({})) }, {
    volume: 'v',
    options: OPTIONS,
    rawOptions: {},
    dataPath: data,
    stagingDir: join(dir, 'staging'),
    trigger: 'manual',
  });
  assert.equal(backup.result, 'success', backup.error);
  await writeFile(join(data, 'file.txt'), 'current');
  await writeFile(join(data, 'added.txt'), 'added since');
  docker.calls.length = 0;
  const request = {
    volume: 'v',
    options: OPTIONS,
    source: { volume: 'v', archive: 'latest' },
    encryption: [{ volume: 'v', encryption: 'none' as const }],
    stagingDir: store.restoreStagingPath('v'),
    swapIn: () => store.swapInRestored('v'),
  };
  return { dir, store, data, docker, deps, request, archive: backup.archive as string };
}

describe('restoreInPlace', () => {
  it('swaps the archive content in while the attached container is stopped, then starts it', async () => {
    const { data, docker, deps, request, store, archive } = await setUp();
    const record = await restoreInPlace(deps, request);
    assert.equal(record.result, 'success', record.error);
    assert.equal(record.archive, archive);
    assert.deepEqual(record.stopped, ['app']);
    assert.deepEqual(docker.calls, ['stop app', 'start app']);
    assert.deepEqual(record.stops?.map(({ container, signal, killed }) => ({ container, signal, killed })), [{ container: 'app', signal: 'SIGTERM', killed: false }]);
    assert.equal(record.warning, undefined);
    assert.deepEqual(await readdir(data), ['file.txt']);
    assert.equal(await readFile(join(data, 'file.txt'), 'utf8'), 'backed up');
    assert.deepEqual((await readdir(join(store.volumesDir, 'v'))).sort(), ['data', 'volume.json']);
  });

  it('says which container ignored its stop signal and was killed after its own timeout', async () => {
    const { docker, deps, request } = await setUp();
    docker.ownStopSettings.set('app', { signal: 'SIGINT', timeoutSeconds: 1 });
    docker.ignoreStopSignal.add('app');
    const record = await restoreInPlace({ ...deps, stopTimeoutSeconds: undefined }, request);
    assert.equal(record.result, 'success', record.error);
    assert.equal(record.stops?.[0]?.killed, true);
    assert.equal(record.warning, 'app ignored SIGINT and was killed after 1 s');
  });

  it('keeps the old content when a container refuses to stop', async () => {
    const { data, docker, deps, request } = await setUp();
    docker.refuseToStop.add('app');
    const record = await restoreInPlace(deps, request);
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /refused to stop/);
    assert.equal(await readFile(join(data, 'file.txt'), 'utf8'), 'current');
    await assert.rejects(readdir(request.stagingDir), 'the staging tree is gone');
  });

  it('keeps the old content, and stops nothing, when the archive does not match its manifest', async () => {
    const { dir, data, docker, deps, request, archive } = await setUp();
    const path = join(dir, 'archive', 'v', archive);
    const bytes = await readFile(path);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(path, bytes);
    const record = await restoreInPlace(deps, request);
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /cannot restore/);
    assert.deepEqual(docker.calls, []);
    assert.equal(await readFile(join(data, 'added.txt'), 'utf8'), 'added since');
  });

  it('says which archive is missing', async () => {
    const { deps, request } = await setUp();
    const record = await restoreInPlace(deps, { ...request, source: { volume: 'v', archive: 'v-20200101T000000Z.tar.gz' } });
    assert.match(record.error ?? '', /no complete archive v-20200101T000000Z.tar.gz in target local/);
  });
});

describe('VolumeStore restore swap', () => {
  it('puts the old data back when a restore was cut between its two renames', async () => {
    const dir = await makeTempDir('restore-recover');
    const store = new VolumeStore(dir);
    await store.create({ name: 'v', createdAt: new Date().toISOString(), options: {}, mountIds: [] });
    await writeFile(join(store.dataPath('v'), 'old.txt'), 'old');
    // What the first rename leaves: data/ moved aside, the staged tree not yet in place.
    await mkdir(store.restoreStagingPath('v'));
    await rename(store.dataPath('v'), join(store.volumesDir, 'v', 'data.previous'));
    await store.recoverInterruptedRestore('v');
    assert.equal(await readFile(join(store.dataPath('v'), 'old.txt'), 'utf8'), 'old');
    assert.deepEqual((await readdir(join(store.volumesDir, 'v'))).sort(), ['data', 'volume.json']);
  });

  it('keeps the new data when the swap completed but the old tree was not deleted yet', async () => {
    const dir = await makeTempDir('restore-recover-done');
    const store = new VolumeStore(dir);
    await store.create({ name: 'v', createdAt: new Date().toISOString(), options: {}, mountIds: [] });
    await mkdir(store.restoreStagingPath('v'));
    await writeFile(join(store.restoreStagingPath('v'), 'new.txt'), 'new');
    await store.swapInRestored('v');
    await store.recoverInterruptedRestore('v');
    assert.deepEqual(await readdir(store.dataPath('v')), ['new.txt']);
    assert.deepEqual((await readdir(join(store.volumesDir, 'v'))).sort(), ['data', 'volume.json']);
  });
});
