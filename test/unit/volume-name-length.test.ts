import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatArchiveName } from '../../src/vocabulary/archive-name';
import { manifestName } from '../../src/vocabulary/archive-manifest';
import { runBackup } from '../../src/runs/backup/run-backup';
import { loadArchiveKeys } from '../../src/settings/archive-keys';
import { createSilentLogger } from '../../src/shared/logger';
import { StopJournal } from '../../src/engine/stop-journal';
import { restoreInPlace } from '../../src/runs/restore/restore-in-place';
import { PARTIAL_PREFIX } from '../../src/targets/leftovers';
import { LocalTarget } from '../../src/targets/local-target';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import { assertValidVolumeName, MAX_VOLUME_NAME_LENGTH } from '../../src/vocabulary/volume-name';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import { VolumeStore } from '../../src/volumes/volume-store';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

const NAME_MAX = 255;
const longName = (length: number) => `v${'x'.repeat(length - 1)}`;

describe('volume name length', () => {
  it('accepts 1 and MAX_VOLUME_NAME_LENGTH characters, refuses one more', () => {
    assertValidVolumeName('a');
    assertValidVolumeName(longName(MAX_VOLUME_NAME_LENGTH));
    assert.throws(() => assertValidVolumeName(longName(MAX_VOLUME_NAME_LENGTH + 1)), new RegExp(`\\(${MAX_VOLUME_NAME_LENGTH + 1} characters\\): use 1-${MAX_VOLUME_NAME_LENGTH} characters`));
    assert.throws(() => assertValidVolumeName(longName(255)), /invalid volume name "vxxx/);
  });

  it('leaves room for the longest file name built from a volume name', () => {
    const volume = longName(MAX_VOLUME_NAME_LENGTH);
    const archive = formatArchiveName(volume, new Date('2026-12-31T23:59:59Z'), 'zstd', 'age');
    // atomic-file.ts's temporary sibling, with the largest pid Linux hands out and a ten-digit counter.
    const worstTemporary = `${manifestName(archive)}.tmp-${4194304}-${Date.now()}-${9999999999}`;
    for (const name of [archive, manifestName(archive), `${PARTIAL_PREFIX}${manifestName(archive)}`, worstTemporary, `${volume}.json.tmp-4194304-${Date.now()}-9999999999`]) {
      assert.ok(Buffer.byteLength(name) <= NAME_MAX, `${name.length}: ${name.slice(MAX_VOLUME_NAME_LENGTH)}`);
    }
  });

  it('a volume of the longest name is backed up (zstd, gpg, a stopped container journaled) and restored', async () => {
    const volume = longName(MAX_VOLUME_NAME_LENGTH);
    const dir = await makeTempDir('long-name');
    const store = new VolumeStore(join(dir, 'state'));
    await store.create({ name: volume, createdAt: new Date().toISOString(), options: {}, mountIds: [] });
    await writeFile(join(store.dataPath(volume), 'file.txt'), 'content');
    const keys = loadArchiveKeys({ GPG_PASSPHRASE: 'long-name-passphrase' });
    const raw = { 'backup-snapshot': 'copy', 'backup-compression': 'zstd', 'backup-encryption': 'gpg' };
    const options = parseVolumeOptions(raw, { schedule: 'none', retention: '', encryption: 'none', missingKeySetting: () => undefined });
    const docker = new FakeDocker([container('app', { volumes: [volume] })]);
    const deps = {
      docker,
      journal: new StopJournal(join(dir, 'state')),
      targets: new TargetSet(join(dir, 'archive'), loadRemoteSettings({})),
      stopTimeoutSeconds: 5,
      serviceStopTimeoutSeconds: 5,
      logger: createSilentLogger(),
      keys,
    };
    const backup = await runBackup(deps, { volume, options, rawOptions: raw, dataPath: store.dataPath(volume), stagingDir: join(dir, 'staging', volume), trigger: 'manual' });
    assert.equal(backup.result, 'success', backup.error);
    assert.deepEqual(backup.stopped, ['app']);
    assert.equal((await readdir(join(dir, 'archive', volume))).length, 2);
    const restored = await restoreInPlace(
      { ...deps, target: new LocalTarget(join(dir, 'archive')) },
      {
        volume,
        source: { volume, archive: 'latest' },
        encryption: [{ volume, encryption: 'gpg' }],
        stagingDir: store.restoreStagingPath(volume),
        swapIn: () => store.swapInRestored(volume),
      },
    );
    assert.equal(restored.result, 'success', restored.error);
  });
});
