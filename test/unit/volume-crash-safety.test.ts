import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import { VolumeRegistry, type VolumeRegistryDeps } from '../../src/volumes/volume-registry';
import { VolumeStore } from '../../src/volumes/volume-store';
import { RunStateStore } from '../../src/runs/run-state';
import { type RunState } from '../../src/vocabulary/run-record';
import { setUpRuns } from './runs-fixtures';
import { FakeMounter } from '../helpers/fake-mounter';
import { makeTempDir } from '../helpers/temp-dir';

/** A store whose trash is emptied only when the test says so: deleting big trees, slowed down. */
class SlowTrashStore extends VolumeStore {
  emptying = false;
  private release: () => void = () => undefined;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  override async emptyTrash(): Promise<void> {
    this.emptying = true;
    await this.released;
    await super.emptyTrash();
  }

  finishEmptying(): void {
    this.release();
  }
}

function registryOn(store: VolumeStore, dataDir: string, extra: Partial<VolumeRegistryDeps> = {}): VolumeRegistry {
  return new VolumeRegistry({
    store,
    mounter: new FakeMounter(),
    mountRoot: join(dataDir, 'mnt'),
    defaults: { schedule: 'none', retention: '', encryption: 'none' },
    logger: createSilentLogger(),
    ...extra,
  });
}

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('startup does no heavy work before the socket opens', () => {
  it('answers List and Get while the leftovers of an interrupted restore are still being deleted', async () => {
    const dataDir = await makeTempDir('recovery');
    const first = new VolumeStore(dataDir);
    await first.create({ name: 'v', createdAt: new Date().toISOString(), options: {}, mountIds: [] });
    await writeFile(join(first.dataPath('v'), 'old.txt'), 'old');
    // A restore cut between its renames: data/ moved aside, a big staged tree beside it.
    await mkdir(first.restoreStagingPath('v'));
    await writeFile(join(first.restoreStagingPath('v'), 'big'), Buffer.alloc(1024));
    await rename(first.dataPath('v'), join(first.volumesDir, 'v', 'data.previous'));

    const store = new SlowTrashStore(dataDir);
    const registry = registryOn(store, dataDir);
    await registry.load();
    const emptied = registry.emptyTrash();
    assert.deepEqual((await registry.list()).map((volume) => volume.Name), ['v']);
    assert.ok(store.emptying, 'the deletion is under way');
    assert.equal((await registry.get('v')).Name, 'v');
    assert.equal(await readFile(join(store.dataPath('v'), 'old.txt'), 'utf8'), 'old', 'the old data is back in place already');
    assert.deepEqual((await readdir(join(store.volumesDir, 'v'))).sort(), ['data', 'volume.json']);

    store.finishEmptying();
    await emptied;
    assert.deepEqual(await readdir(join(dataDir, 'trash')), []);
  });
});

describe('a volume loaded at start', () => {
  it('is scheduled and reported without waiting for its run state to be rewritten', async () => {
    const writes: string[] = [];
    let finishWrites: () => void = () => undefined;
    const writesHeld = new Promise<void>((resolve) => (finishWrites = resolve));
    const slow = new (class extends RunStateStore {
      override async write(volume: string, state: RunState): Promise<void> {
        writes.push(volume);
        await writesHeld;
        await super.write(volume, state);
      }
    })('/nonexistent');
    const { runs, volume, scheduler } = await setUpRuns({ runStates: slow });
    try {
      await runs.volumes.volumeAdded(volume);
      assert.equal(typeof runs.status.of(volume).nextRun, 'string');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(writes, ['v'], 'the write of the new next run is under way, not awaited');
    } finally {
      finishWrites();
      scheduler.stopAll();
    }
  });
});

describe('create and remove survive a crash half way', () => {
  it('a create with restore-from cut short leaves no "restored" volume, and a repeated create restores', async () => {
    const dataDir = await makeTempDir('crash-create');
    let stageCalled: () => void = () => undefined;
    const staging = new Promise<void>((resolve) => (stageCalled = resolve));
    const crashed = registryOn(new VolumeStore(dataDir), dataDir, {
      // The process dies while the archive is being extracted: the stage never ends.
      stageRestoreFrom: async () => {
        stageCalled();
        await new Promise(() => undefined);
      },
    });
    await crashed.load();
    void crashed.create('copy', { 'restore-from': 'v@latest' });
    await staging;

    const restarted = registryOn(new VolumeStore(dataDir), dataDir, {
      stageRestoreFrom: async (_volume, _source, stagingDir) => {
        await mkdir(stagingDir, { recursive: true });
        await writeFile(join(stagingDir, 'restored.txt'), 'restored');
      },
    });
    await restarted.load();
    assert.deepEqual(await restarted.list(), [], 'the half-made volume is not listed');
    await restarted.create('copy', { 'restore-from': 'v@latest' });
    assert.equal(await readFile(join(restarted.dataPath('copy'), 'restored.txt'), 'utf8'), 'restored', 'the repeated create restored');
  });

  it('a folder a crashed remove left is not inherited by a new volume of the same name', async () => {
    const dataDir = await makeTempDir('crash-remove');
    const store = new VolumeStore(dataDir);
    // What the earlier remove (record deleted first, then the tree) left when it was cut short.
    await mkdir(store.dataPath('v'), { recursive: true });
    await writeFile(join(store.dataPath('v'), 'secret.txt'), 'of the removed volume');

    const registry = registryOn(new VolumeStore(dataDir), dataDir);
    await registry.load();
    await registry.emptyTrash();
    assert.deepEqual(await registry.list(), []);
    await registry.create('v', {});
    assert.deepEqual(await readdir(registry.dataPath('v')), [], 'the new volume starts empty');
  });

  it('remove answers before the tree is deleted, and the name is free at once', async () => {
    const dataDir = await makeTempDir('slow-remove');
    const store = new SlowTrashStore(dataDir);
    const registry = registryOn(store, dataDir);
    await registry.load();
    await registry.create('v', {});
    await writeFile(join(store.dataPath('v'), 'file'), 'x');
    await registry.remove('v');
    assert.ok(store.emptying, 'the deletion runs in the background');
    assert.ok(!(await exists(join(store.volumesDir, 'v'))), 'the volume folder is gone from volumes/ already');

    const restarted = registryOn(new VolumeStore(dataDir), dataDir);
    await restarted.load();
    assert.deepEqual(await restarted.list(), [], 'a crash now leaves no volume behind');
    await restarted.emptyTrash();
    assert.deepEqual(await readdir(join(dataDir, 'trash')), [], 'the next start deletes what the crash left in the trash');
    store.finishEmptying();
  });
});
