import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AdminService } from '../../src/admin/admin-service';
import { createSilentLogger } from '../../src/logging/logger';
import { StopJournal } from '../../src/quiesce/stop-journal';
import type { ArchiveSource } from '../../src/targets/target-reader';
import { VolumeActivity } from '../../src/util/volume-activity';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import type { Volume, VolumeRegistry } from '../../src/volumes/volume-registry';
import { setUpCoordinator } from './coordinator-fixtures';

/** An AdminService whose registry knows `w` (and `v`), over the coordinator of coordinator-fixtures.ts. */
async function setUp() {
  const activity = new VolumeActivity();
  const { coordinator, docker, dir } = await setUpCoordinator({ activity });
  const options = parseVolumeOptions({}, { schedule: 'none', retention: '', encryption: 'none' });
  const volumes = new Map<string, Volume>(
    ['v', 'w'].map((name) => [name, { record: { name, createdAt: new Date().toISOString(), options: {}, mountIds: [] }, options }]),
  );
  const registry = {
    find: (name: string) => volumes.get(name),
    restoreStagingPath: (name: string) => join(dir, 'restore-staging', name),
    swapInRestored: async () => join(dir, 'old'),
  } as unknown as VolumeRegistry;
  const listed: string[] = [];
  const archives: ArchiveSource = {
    name: 'local',
    list: async (volume: string) => {
      listed.push(volume);
      return [];
    },
    open: async () => {
      throw new Error('not reached');
    },
  } as unknown as ArchiveSource;
  const admin = new AdminService({
    registry,
    coordinator,
    activity,
    restore: { docker, journal: new StopJournal(dir), stopTimeoutSeconds: 5, serviceStopTimeoutSeconds: 5, logger: createSilentLogger() },
    readArchives: () => archives,
    usableTargets: () => ['local'],
    logger: createSilentLogger(),
  });
  return { admin, coordinator, listed };
}

describe('restores and MAX_CONCURRENT_BACKUPS', () => {
  it('a restore waits for the slot a backup of another volume holds, and runs once it is free', async () => {
    const { admin, coordinator, listed } = await setUp();
    let release: () => void = () => undefined;
    const holding = coordinator.inRunSlot(() => new Promise<void>((resolve) => (release = resolve)));
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
    const { admin, coordinator, listed } = await setUp();
    let release: () => void = () => undefined;
    const holding = coordinator.inRunSlot(() => new Promise<void>((resolve) => (release = resolve)));
    const restore = admin.restore('v', 'latest', () => undefined, 'w');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(listed, []);
    release();
    await holding;
    await restore;
    assert.deepEqual(listed, ['v'], 'the archives of the source volume are read');
  });
});
