import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VolumeStore, type VolumeRecord } from '../../src/volumes/volume-store';
import { makeTempDir } from '../helpers/temp-dir';

const record = (name: string, mountIds: string[] = []): VolumeRecord => ({
  name,
  createdAt: '2026-11-22T03:00:00.000Z',
  options: { 'backup-schedule': '@daily' },
  mountIds,
});

describe('VolumeStore', () => {
  it('creates the data folder and a record that a second store reloads', async () => {
    const dir = await makeTempDir('store');
    await new VolumeStore(dir).create(record('alpha', ['m1', 'm2']));
    const { records, problems } = await new VolumeStore(dir).loadAll();
    assert.deepEqual(problems, []);
    assert.deepEqual(records, [record('alpha', ['m1', 'm2'])]);
    assert.deepEqual(await readdir(join(dir, 'volumes', 'alpha', 'data')), []);
  });

  it('writes atomically: no temporary file is left and the file is whole JSON', async () => {
    const dir = await makeTempDir('store');
    const store = new VolumeStore(dir);
    await store.create(record('alpha'));
    for (let i = 0; i < 20; i++) await store.save(record('alpha', [`m${i}`]));
    assert.deepEqual((await readdir(join(dir, 'volumes', 'alpha'))).sort(), ['data', 'volume.json']);
    const saved = JSON.parse(await readFile(join(dir, 'volumes', 'alpha', 'volume.json'), 'utf8')) as VolumeRecord;
    assert.deepEqual(saved.mountIds, ['m19']);
  });

  it('keeps the live mount IDs in mounts.json: they win over the record, and a torn file is no mount', async () => {
    const dir = await makeTempDir('store');
    const store = new VolumeStore(dir);
    // A record from before mounts.json holds its mount IDs itself.
    await store.create(record('alpha', ['old']));
    assert.deepEqual((await store.read('alpha'))?.mountIds, ['old']);
    for (let i = 0; i < 5; i++) await store.saveMountIds('alpha', [`m${i}`, `m${i}`]);
    assert.deepEqual((await new VolumeStore(dir).read('alpha'))?.mountIds, ['m4']);
    assert.deepEqual((await readdir(join(dir, 'volumes', 'alpha'))).sort(), ['data', 'mounts.json', 'volume.json'], 'no temporary file left');
    assert.deepEqual((await store.read('alpha'))?.options, record('alpha').options, 'the record is untouched');
    // What a power loss can leave of a write without fsync: an empty file.
    await writeFile(join(dir, 'volumes', 'alpha', 'mounts.json'), '');
    assert.deepEqual((await store.read('alpha'))?.mountIds, []);
  });

  it('keeps mount IDs a set even if the file repeats one', async () => {
    const dir = await makeTempDir('store');
    const store = new VolumeStore(dir);
    await store.create(record('alpha'));
    const path = join(dir, 'volumes', 'alpha', 'volume.json');
    await writeFile(path, JSON.stringify(record('alpha', ['a', 'a', 'b'])));
    assert.deepEqual((await store.read('alpha'))?.mountIds, ['a', 'b']);
  });

  it('ignores a folder without a record and reports an unreadable one', async () => {
    const dir = await makeTempDir('store');
    const store = new VolumeStore(dir);
    await mkdir(join(dir, 'volumes', 'half-created', 'data'), { recursive: true });
    await mkdir(join(dir, 'volumes', 'broken'), { recursive: true });
    await writeFile(join(dir, 'volumes', 'broken', 'volume.json'), '{"name": "other"}');
    const { records, problems } = await store.loadAll();
    assert.deepEqual(records, []);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /volume broken: volume.json is not a backupvol volume record/);
  });

  it('deletes the record and the data', async () => {
    const dir = await makeTempDir('store');
    const store = new VolumeStore(dir);
    await store.create(record('alpha'));
    await writeFile(join(store.dataPath('alpha'), 'file'), 'x');
    await store.delete('alpha');
    assert.deepEqual(await readdir(join(dir, 'volumes')), []);
  });
});
