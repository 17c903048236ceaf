import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBackup } from '../../src/runs/backup/run-backup';
import { createSilentLogger } from '../../src/shared/logger';
import { StopJournal } from '../../src/engine/stop-journal';
import { assertArchiveEncryption } from '../../src/runs/restore/archive-encryption';
import { restoreInPlace, type RestoreDeps } from '../../src/runs/restore/restore-in-place';
import { parseOwnRestoreSource, parseRestoreSource } from '../../src/vocabulary/restore-source';
import { resolveArchive } from '../../src/runs/restore/resolve-archive';
import { stageArchive } from '../../src/runs/restore/stage-archive';
import { verifyArchive } from '../../src/runs/restore/verify-archive';
import type { ArchiveManifest } from '../../src/vocabulary/archive-manifest';
import { LocalTarget } from '../../src/targets/local-target';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import { VolumeStore } from '../../src/volumes/volume-store';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

const PLAIN = parseVolumeOptions({ 'backup-snapshot': 'direct' }, { schedule: 'none', retention: '', encryption: 'none' });

/** A plain archive of `v` in the local target, as someone who can write there (and has no key) could plant it. */
async function plantPlainArchive() {
  const dir = await makeTempDir('archive-trust');
  const store = new VolumeStore(join(dir, 'state'));
  await store.create({ name: 'v', createdAt: new Date().toISOString(), options: { 'backup-encryption': 'age' }, mountIds: [] });
  const data = store.dataPath('v');
  await writeFile(join(data, 'file.txt'), 'planted');
  const docker = new FakeDocker([container('app', { volumes: ['v'] })]);
  const target = new LocalTarget(join(dir, 'archive'));
  const deps: RestoreDeps = {
    docker,
    journal: new StopJournal(join(dir, 'state')),
    target,
    stopTimeoutSeconds: 5,
    serviceStopTimeoutSeconds: 5,
    logger: createSilentLogger(),
  };
  const backup = await runBackup({ ...deps, targets: new TargetSet(join(dir, 'archive'), loadRemoteSettings({})) }, {
    volume: 'v',
    options: PLAIN,
    rawOptions: {},
    dataPath: data,
    stagingDir: join(dir, 'staging'),
    trigger: 'manual',
  });
  assert.equal(backup.result, 'success', backup.error);
  await writeFile(join(data, 'file.txt'), 'current');
  docker.calls.length = 0;
  return { dir, store, data, docker, deps, target, archive: backup.archive as string };
}

function stored(name: string, encryption: string) {
  return { name, manifest: { encryption } as ArchiveManifest };
}

describe('assertArchiveEncryption', () => {
  const age = [{ volume: 'db', encryption: 'age' as const }];
  const none = [{ volume: 'db', encryption: 'none' as const }];

  it('accepts an archive encrypted the way the volume asks', () => {
    assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz.age', 'age'), age);
    assertArchiveEncryption(stored('db-20261122T030405Z.tar.zst.gpg', 'gpg'), [{ volume: 'db', encryption: 'gpg' }]);
    assertArchiveEncryption(stored('db-20261122T030405Z.tar', 'none'), none);
  });

  it('refuses a plain archive, or one encrypted another way, for an encrypted volume', () => {
    assert.throws(() => assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz', 'none'), age), /not encrypted, but volume db has backup-encryption=age/);
    assert.throws(() => assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz.gpg', 'gpg'), age), /encrypted with gpg, but volume db has backup-encryption=age/);
  });

  it('refuses an archive whose name and manifest disagree, whatever the volume says', () => {
    // A manifest rewritten to "none" beside an .age archive, and the other way round.
    assert.throws(() => assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz.age', 'none'), none), /its name says encryption age but its manifest says "none"/);
    assert.throws(() => assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz', 'age'), age), /name says encryption none but its manifest says "age"/);
    assert.throws(() => assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz', 'rot13'), none), /manifest says "rot13"/);
    assert.throws(() => assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz', undefined as unknown as string), none), /manifest says undefined/);
  });

  it('lets a volume without encryption take an encrypted archive (its keys decrypt it)', () => {
    assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz.age', 'age'), none);
    assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz.gpg', 'gpg'), []);
  });

  it('holds the archive to every volume involved: the source of --into as well as the new volume', () => {
    const into = [
      { volume: 'copy', encryption: 'none' as const },
      { volume: 'db', encryption: 'age' as const },
    ];
    assert.throws(() => assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz', 'none'), into), /volume db has backup-encryption=age/);
    assertArchiveEncryption(stored('db-20261122T030405Z.tar.gz.age', 'age'), into);
  });
});

describe('a planted unencrypted archive of an encrypted volume', () => {
  it('is refused by restore before anything is extracted or stopped', async () => {
    const { docker, deps, data, store } = await plantPlainArchive();
    const record = await restoreInPlace(deps, {
      volume: 'v',
      source: { volume: 'v', archive: 'latest' },
      encryption: [{ volume: 'v', encryption: 'age' }],
      stagingDir: store.restoreStagingPath('v'),
      swapIn: () => store.swapInRestored('v'),
    });
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /cannot restore v-.*\.tar\.gz: archive .* is refused: it is not encrypted, but volume v has backup-encryption=age/);
    assert.deepEqual(docker.calls, []);
    assert.equal(await readFile(join(data, 'file.txt'), 'utf8'), 'current');
    assert.deepEqual((await readdir(join(store.volumesDir, 'v'))).sort(), ['data', 'volume.json'], 'no staging folder was made');
  });

  it('is refused by restore-from staging and by verify', async () => {
    const { dir, target } = await plantPlainArchive();
    const archive = await resolveArchive(target, { volume: 'v', archive: 'latest' });
    const stagingDir = join(dir, 'staging-new');
    await assert.rejects(
      stageArchive(target, { sourceVolume: 'v', archive, stagingDir, encryption: [{ volume: 'new', encryption: 'gpg' }] }),
      /is refused: it is not encrypted, but volume new has backup-encryption=gpg/,
    );
    await assert.rejects(readdir(stagingDir));
    const verified = await verifyArchive(target, 'v', archive, { encryption: [{ volume: 'v', encryption: 'age' }] });
    assert.equal(verified.result, 'failed');
    assert.match(verified.error ?? '', /is refused: it is not encrypted/);
    // The same archive is fine for a volume that asks for no encryption.
    assert.equal((await verifyArchive(target, 'v', archive, { encryption: [{ volume: 'v', encryption: 'none' }] })).result, 'ok');
  });
});

describe('restore sources', () => {
  it('refuse an archive name whose volume part is not a volume name', () => {
    assert.throws(() => parseRestoreSource('..-20261122T030405Z.tar.gz'), /not an archive of a volume: invalid volume name "\.\."/);
    assert.throws(() => parseRestoreSource('.-20261122T030405Z.tar.gz'), /invalid volume name/);
    assert.throws(() => parseRestoreSource('../v-20261122T030405Z.tar.gz'), /is not an archive/);
    assert.throws(() => parseRestoreSource('..@latest'), /invalid volume name/);
    assert.deepEqual(parseRestoreSource('db-data-20261122T030405Z.tar.gz'), { volume: 'db-data', archive: 'db-data-20261122T030405Z.tar.gz' });
  });

  it('of a restore are the volume’s own archives only', () => {
    assert.deepEqual(parseOwnRestoreSource('latest', 'db'), { volume: 'db', archive: 'latest' });
    assert.deepEqual(parseOwnRestoreSource('db@latest', 'db'), { volume: 'db', archive: 'latest' });
    assert.deepEqual(parseOwnRestoreSource('db-20261122T030405Z.tar.gz', 'db'), { volume: 'db', archive: 'db-20261122T030405Z.tar.gz' });
    assert.throws(() => parseOwnRestoreSource('other-20261122T030405Z.tar.gz', 'db'), /is an archive of volume other, not of db.*--into/);
    assert.throws(() => parseOwnRestoreSource('other@latest', 'db'), /is an archive of volume other, not of db/);
    // A volume whose name ends like another's: db-data's archive is not db's.
    assert.throws(() => parseOwnRestoreSource('db-data-20261122T030405Z.tar.gz', 'db'), /volume db-data, not of db/);
    assert.throws(() => parseOwnRestoreSource('..-20261122T030405Z.tar.gz', 'db'), /invalid volume name/);
  });
});
