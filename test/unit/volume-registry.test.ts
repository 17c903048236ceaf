import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import type { OptionDefaults } from '../../src/volumes/volume-options';
import { VolumeRegistry } from '../../src/volumes/volume-registry';
import { VolumeStore } from '../../src/volumes/volume-store';
import { FakeMounter } from '../helpers/fake-mounter';
import { makeTempDir } from '../helpers/temp-dir';

const PLAIN: OptionDefaults = { schedule: 'none', retention: '', encryption: 'none' };

async function setUp(dir?: string, mounter = new FakeMounter(), defaults: OptionDefaults = PLAIN) {
  const dataDir = dir ?? (await makeTempDir('registry'));
  const registry = new VolumeRegistry({
    store: new VolumeStore(dataDir),
    mounter,
    mountRoot: join(dataDir, 'mnt'),
    defaults,
    logger: createSilentLogger(),
  });
  await registry.load();
  return { registry, mounter, dataDir };
}

describe('VolumeRegistry', () => {
  it('creates a volume that Get and List report with an RFC 3339 CreatedAt', async () => {
    const { registry, dataDir } = await setUp();
    await registry.create('alpha', { 'backup-schedule': '0 3 * * *' });
    const info = await registry.get('alpha');
    assert.equal(info.Name, 'alpha');
    assert.equal(info.Mountpoint, join(dataDir, 'mnt', 'alpha'));
    assert.match(info.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(info.Status.mounted, false);
    assert.deepEqual(
      (await registry.list()).map((volume) => volume.Name),
      ['alpha'],
    );
    assert.ok((await stat(join(dataDir, 'volumes', 'alpha', 'data'))).isDirectory());
  });

  it('rejects names that could leave the data directory, and bad options, creating nothing', async () => {
    const { registry } = await setUp();
    for (const name of ['..', '../x', 'a/b', '.hidden', '', '-x']) {
      await assert.rejects(registry.create(name, {}), /invalid volume name/);
    }
    await assert.rejects(registry.create('beta', { 'backup-compression': 'lz4' }), /invalid backup-compression/);
    assert.deepEqual(await registry.list(), []);
  });

  it('treats a repeated create as a no-op that keeps the first options', async () => {
    const { registry, dataDir } = await setUp();
    await registry.create('alpha', { 'backup-schedule': '@daily' });
    await writeFile(join(dataDir, 'volumes', 'alpha', 'data', 'kept'), 'x');
    await registry.create('alpha', { 'backup-schedule': '@hourly' });
    assert.deepEqual(registry.find('alpha')?.record.options, { 'backup-schedule': '@daily' });
    assert.equal(await readFile(join(dataDir, 'volumes', 'alpha', 'data', 'kept'), 'utf8'), 'x');
  });

  it('binds at create, keeps the bind across mounts and unmounts, and counts a repeated ID once', async () => {
    const { registry, mounter, dataDir } = await setUp();
    await registry.create('alpha', {});
    const target = join(dataDir, 'mnt', 'alpha');
    assert.deepEqual(mounter.calls, [`bind ${target}`], 'bound at create, so that Mount spawns nothing');
    assert.equal(await registry.mount('alpha', 'one'), target);
    await registry.mount('alpha', 'two');
    await registry.mount('alpha', 'two');
    assert.deepEqual((await registry.get('alpha')).Status.mounted, true);
    await registry.unmount('alpha', 'one');
    await registry.unmount('alpha', 'two');
    await registry.unmount('alpha', 'unknown');
    assert.equal((await registry.get('alpha')).Status.mounted, false);
    assert.ok(mounter.mounted.has(target), 'still bound when no container uses it');
    await registry.mount('alpha', 'three');
    assert.deepEqual(mounter.calls, [`bind ${target}`]);
    await registry.unmount('alpha', 'three');
    await registry.remove('alpha');
    assert.deepEqual(mounter.calls, [`bind ${target}`, `unbind ${target}`], 'unbound at remove');
  });

  it('binds at Mount when the bind is gone (the engine took it down with the plugin)', async () => {
    const { registry, mounter, dataDir } = await setUp();
    await registry.create('alpha', {});
    const target = join(dataDir, 'mnt', 'alpha');
    mounter.mounted.delete(target);
    await registry.mount('alpha', 'one');
    assert.deepEqual(mounter.calls, [`bind ${target}`, `bind ${target}`]);
  });

  it('refuses to remove a mounted volume, then removes it with its data', async () => {
    const { registry, dataDir } = await setUp();
    await registry.create('alpha', {});
    await registry.mount('alpha', 'one');
    await assert.rejects(registry.remove('alpha'), /volume alpha is in use: still mounted for 1 mount\(s\) \(one\)/);
    await registry.unmount('alpha', 'one');
    await registry.remove('alpha');
    await assert.rejects(registry.get('alpha'), /no such volume: alpha/);
    await assert.rejects(stat(join(dataDir, 'volumes', 'alpha')), { code: 'ENOENT' });
    await assert.rejects(stat(join(dataDir, 'mnt', 'alpha')), { code: 'ENOENT' }, 'the empty mountpoint goes too');
  });

  it('tells its observer the volume stays when a removal is refused, so that its schedule comes back', async () => {
    const { registry } = await setUp();
    const heard: string[] = [];
    registry.observe({
      volumeAdded: async (volume) => void heard.push(`added ${volume.record.name}`),
      volumeRemoving: async (name) => void heard.push(`removing ${name}`),
      volumeRemoved: async (name) => void heard.push(`removed ${name}`),
    });
    await registry.create('alpha', { 'backup-schedule': '@daily' });
    await registry.mount('alpha', 'one');
    await assert.rejects(registry.remove('alpha'), /in use/);
    assert.deepEqual(heard, ['added alpha', 'removing alpha', 'added alpha']);
    await registry.unmount('alpha', 'one');
    await registry.remove('alpha');
    assert.deepEqual(heard.slice(3), ['removing alpha', 'removed alpha']);
  });

  it('refuses gpg without its key setting at create, but keeps an existing gpg volume (and its schedule) when the key goes', async () => {
    const withKey = await setUp(undefined, undefined, { ...PLAIN, missingKeySetting: () => undefined });
    await withKey.registry.create('secret', { 'backup-encryption': 'gpg', 'backup-schedule': '@daily' });
    const noKey: OptionDefaults = { ...PLAIN, missingKeySetting: () => 'backup-encryption=gpg needs the plugin setting GPG_PASSPHRASE' };
    const later = await setUp(withKey.dataDir, undefined, noKey);
    assert.equal(later.registry.find('secret')?.options?.schedule, '@daily');
    await assert.rejects(later.registry.create('another', { 'backup-encryption': 'gpg' }), /GPG_PASSPHRASE/);
    // The engine's Create again for the volume it knows (e.g. after a plugin reinstall) is a no-op.
    await later.registry.create('secret', { 'backup-encryption': 'gpg', 'backup-schedule': '@daily' });
    assert.equal(later.registry.find('secret')?.options?.encryption, 'gpg');
  });

  it('a second registry on the same state adopts the volumes and restores their mounts', async () => {
    const first = await setUp();
    await first.registry.create('alpha', { 'backup-schedule': '@daily' });
    await first.registry.create('beta', {});
    await first.registry.mount('alpha', 'one');

    const second = await setUp(first.dataDir);
    assert.deepEqual((await second.registry.list()).map((volume) => volume.Name).sort(), ['alpha', 'beta']);
    assert.deepEqual(second.mounter.calls, [], 'loading must not mount anything');
    await second.registry.restoreMounts();
    assert.deepEqual(second.mounter.calls, [`bind ${join(first.dataDir, 'mnt', 'alpha')}`]);
    await second.registry.unmount('alpha', 'one');
    assert.equal((await second.registry.get('alpha')).Status.mounted, false);
  });

  it('lets the engine remove a volume whose only mount IDs predate a plugin restart (lost Unmounts)', async () => {
    const first = await setUp();
    await first.registry.create('alpha', {});
    await first.registry.mount('alpha', 'lost');
    const second = await setUp(first.dataDir);
    await second.registry.restoreMounts();
    await second.registry.mount('alpha', 'live');
    await assert.rejects(second.registry.remove('alpha'), /in use: still mounted for 1 mount\(s\) \(live\)/);
    await second.registry.unmount('alpha', 'live');
    await second.registry.mount('alpha', 'again');
    await second.registry.unmount('alpha', 'again');
    await first.registry.mount('alpha', 'other');
    const third = await setUp(first.dataDir);
    await third.registry.restoreMounts();
    await third.registry.remove('alpha');
    assert.deepEqual(await third.registry.list(), []);
    assert.equal(third.mounter.mounted.size, 0, 'the leftover bind mount is undone');
  });

  it('serialises operations on one volume: concurrent mounts bind once', async () => {
    const { registry, mounter } = await setUp();
    await registry.create('alpha', {});
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => registry.mount('alpha', id)));
    assert.equal(mounter.calls.length, 1);
    assert.deepEqual(registry.find('alpha')?.record.mountIds, ['a', 'b', 'c', 'd']);
  });

  it('does not record a mount ID when the bind mount fails', async () => {
    const mounter = new FakeMounter();
    mounter.bind = async () => {
      throw new Error('mount --bind failed: permission denied');
    };
    const { registry } = await setUp(undefined, mounter);
    await registry.create('alpha', {});
    await assert.rejects(registry.mount('alpha', 'one'), /permission denied/);
    assert.deepEqual(registry.find('alpha')?.record.mountIds, []);
  });
});
