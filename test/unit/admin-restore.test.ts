import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AdminService } from '../../src/runs/admin-service';
import { Restores } from '../../src/runs/restore/restores';
import { createSilentLogger } from '../../src/shared/logger';
import { StopJournal } from '../../src/engine/stop-journal';
import type { ArchiveManifest } from '../../src/vocabulary/archive-manifest';
import type { StoredArchive } from '../../src/targets/target';
import type { ArchiveSource } from '../../src/targets/target-reader';
import { VolumeActivity } from '../../src/runs/volume-activity';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import { type Encryption } from '../../src/vocabulary/volume-options';
import type { Volume, VolumeRegistry } from '../../src/volumes/volume-registry';
import type { SwarmExports } from '../../src/runs/swarm/swarm-exports';
import { setUpRuns } from './runs-fixtures';

/** An AdminService whose registry knows `w` (and `v`), over the runs of runs-fixtures.ts. */
async function setUp(encryption: Record<string, Encryption> = {}, stored: StoredArchive[] = []) {
  const activity = new VolumeActivity();
  const { runs, docker, dir } = await setUpRuns({ activity });
  const volumes = new Map<string, Volume>(
    ['v', 'w'].map((name) => {
      const raw = { 'backup-encryption': encryption[name] ?? 'none' };
      const options = parseVolumeOptions(raw, { schedule: 'none', retention: '', encryption: 'none', missingKeySetting: () => undefined });
      return [name, { record: { name, createdAt: new Date().toISOString(), options: raw, mountIds: [] }, options }];
    }),
  );
  const registry = {
    find: (name: string) => volumes.get(name),
    encryptionOf: (name: string) => volumes.get(name)?.options?.encryption,
    restoreStagingPath: (name: string) => join(dir, `restore-staging-${name}`),
    swapInRestored: async () => join(dir, 'old'),
  } as unknown as VolumeRegistry;
  const listed: string[] = [];
  let opened = false;
  const archives: ArchiveSource = {
    name: 'local',
    list: async (volume: string) => {
      listed.push(volume);
      return stored;
    },
    open: async () => {
      opened = true;
      throw new Error('the archive was opened');
    },
  } as unknown as ArchiveSource;
  const restores = new Restores({
    registry,
    gate: runs.gate,
    recorder: runs.recorder,
    restore: { docker, journal: new StopJournal(dir), stopTimeoutSeconds: 5, serviceStopTimeoutSeconds: 5, logger: createSilentLogger() },
    readArchives: () => archives,
    usableTargets: () => ['local'],
  });
  // Swarm definitions play no part in restores.
  const admin = new AdminService({ registry, backups: runs.backups, restores, status: runs.status, swarm: {} as SwarmExports });
  return { admin, runs, listed, opened: () => opened };
}

describe('restores and MAX_CONCURRENT_BACKUPS', () => {
  it('a restore waits for the slot a backup of another volume holds, and runs once it is free', async () => {
    const { admin, runs, listed } = await setUp();
    let release: () => void = () => undefined;
    const holding = runs.gate.slot(() => new Promise<void>((resolve) => (release = resolve)));
    const phases: string[] = [];
    const restore = admin.restore('w', 'latest', (report) => phases.push(report.phase));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(listed, [], 'the restore did not start while the slot was taken');
    assert.equal(phases.at(-1), 'waiting for a free slot (MAX_CONCURRENT_BACKUPS)');
    release();
    await holding;
    const record = await restore;
    assert.deepEqual(listed, ['w']);
    assert.match(record.error ?? '', /volume w has no complete archive/);
  });

  it('a restore --into takes the slot too', async () => {
    const { admin, runs, listed } = await setUp();
    let release: () => void = () => undefined;
    const holding = runs.gate.slot(() => new Promise<void>((resolve) => (release = resolve)));
    const restore = admin.restore('v', 'latest', () => undefined, 'w');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(listed, []);
    release();
    await holding;
    await restore;
    assert.deepEqual(listed, ['v'], 'the archives of the source volume are read');
  });
});

describe('restore --into and encryption', () => {
  const plain = { name: 'v-20261122T030405Z.tar.gz', manifest: { encryption: 'none', bytes: 10 } as ArchiveManifest };

  it('holds the archive to the source volume’s backup-encryption, not only the new volume’s', async () => {
    const { admin, opened } = await setUp({ v: 'age', w: 'none' }, [plain]);
    const record = await admin.restore('v', 'latest', () => undefined, 'w');
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /is refused: it is not encrypted, but volume v has backup-encryption=age/);
    assert.equal(opened(), false, 'refused before the archive is read');
  });

  it('holds it to the new volume’s too, and lets plain volumes take a plain archive', async () => {
    const refused = await (await setUp({ v: 'none', w: 'gpg' }, [plain])).admin.restore('v', 'latest', () => undefined, 'w');
    assert.match(refused.error ?? '', /volume w has backup-encryption=gpg/);
    const { admin, opened } = await setUp({}, [plain]);
    const record = await admin.restore('v', 'latest', () => undefined, 'w');
    assert.equal(opened(), true, 'a plain archive for plain volumes is read');
    assert.match(record.error ?? '', /the archive was opened/);
  });
});
