import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import type { SwarmInfo } from '../../src/engine/docker-api';
import { LocalTarget } from '../../src/targets/local-target';
import { NodeFolderTarget, SwarmNodeFolder } from '../../src/targets/node-folder-target';
import { sampleManifest } from '../helpers/target-fixtures';
import { makeTempDir } from '../helpers/temp-dir';

const ARCHIVE = 'data-20260101T000000Z.tar';

async function storeOne(target: NodeFolderTarget): Promise<void> {
  const upload = await target.beginUpload('data', ARCHIVE);
  await pipeline(Readable.from(['content']), upload.stream);
  await upload.commit();
  await target.writeManifest('data', sampleManifest(ARCHIVE, '2026-01-01T00:00:00.000Z'));
}

describe('NodeFolderTarget', () => {
  it('puts archives under NODE/VOLUME in Swarm mode and under VOLUME otherwise', async () => {
    const dir = await makeTempDir('node-folder');
    const swarm: SwarmInfo = { active: true, manager: true, nodeName: 'node-a' };
    const target = new NodeFolderTarget(
      new LocalTarget(join(dir, 'archive')),
      new SwarmNodeFolder({ swarmInfo: async () => swarm }, join(dir, 'state.json')),
    );
    await storeOne(target);
    await access(join(dir, 'archive', 'node-a', 'data', ARCHIVE));
    assert.deepEqual((await target.list('data')).map((archive) => archive.name), [ARCHIVE]);

    const plainFolders = new SwarmNodeFolder(
      { swarmInfo: async () => ({ active: false, manager: false, nodeName: 'node-a' }) },
      join(dir, 'other-state.json'),
    );
    const plain = new NodeFolderTarget(new LocalTarget(join(dir, 'archive')), plainFolders);
    assert.equal(await plainFolders.folderOf('data'), 'data');
    assert.deepEqual(await plain.list('data'), []);
  });

  it('keeps the last known folder when the engine does not answer', async () => {
    const dir = await makeTempDir('node-folder');
    const state = join(dir, 'state.json');
    await new SwarmNodeFolder({ swarmInfo: async () => ({ active: true, manager: false, nodeName: 'worker-7' }) }, state).folderOf('v');
    const engineDown = new SwarmNodeFolder({ swarmInfo: async () => Promise.reject(new Error('connect ENOENT')) }, state);
    assert.equal(await engineDown.folderOf('v'), 'worker-7/v');
  });

  it('asks the engine once for concurrent callers and for a while after, then again', async () => {
    const dir = await makeTempDir('node-folder');
    let asked = 0;
    let clock = 1_000_000;
    let swarm: SwarmInfo = { active: true, manager: true, nodeName: 'node-a' };
    const folders = new SwarmNodeFolder(
      {
        swarmInfo: async () => {
          asked++;
          return swarm;
        },
      },
      join(dir, 'state.json'),
      () => clock,
    );
    assert.deepEqual(await Promise.all([folders.folderOf('a'), folders.folderOf('b'), folders.folderOf('c')]), ['node-a/a', 'node-a/b', 'node-a/c']);
    clock += 29_000;
    swarm = { active: false, manager: false, nodeName: 'node-a' };
    assert.equal(await folders.folderOf('a'), 'node-a/a', 'still the answer of 29 s ago');
    assert.equal(asked, 1);
    clock += 1_000;
    assert.equal(await folders.folderOf('a'), 'a', 'the node left the swarm');
    assert.equal(asked, 2);
  });
});
