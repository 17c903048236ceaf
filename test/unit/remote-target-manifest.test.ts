import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RemoteStore, StoreSession } from '../../src/targets/remote-store';
import { RemoteTarget } from '../../src/targets/remote-target';
import { sampleManifest as manifest } from '../helpers/target-fixtures';

// RemoteTarget's own rules over a store that fails on cue (the stores themselves are tested against real
// servers in remote-targets.test.ts, where a failure cannot be timed).
describe('RemoteTarget', () => {
  it('a remote target whose manifest read fails removes nothing and says why', async () => {
    const files = new Map([
      ['v/v-20260101T000000Z.tar.gz', 'archive'],
      ['v/v-20260101T000000Z.tar.gz.json', JSON.stringify(manifest('v-20260101T000000Z.tar.gz', '2026-01-01T00:00:00.000Z'))],
    ]);
    let readsFail = true;
    const session = {
      list: async (folder: string) => [...files.keys()].filter((path) => path.startsWith(`${folder}/`)).map((path) => path.slice(folder.length + 1)),
      readText: async (path: string) => {
        if (readsFail) throw new Error('503 Slow Down');
        return files.get(path) as string;
      },
      remove: async (path: string) => {
        files.delete(path);
      },
    } as unknown as StoreSession;
    const store = { name: 's3', atomicUploads: true, session: (fn: (s: StoreSession) => Promise<unknown>) => fn(session) } as unknown as RemoteStore;
    const remote = new RemoteTarget(store, (text) => text);
    await assert.rejects(remote.removeIncomplete('v'), /target s3: .*503 Slow Down/);
    await assert.rejects(remote.list('v'), /503 Slow Down/);
    assert.equal(files.size, 2, 'the complete archive and its manifest stay');
    readsFail = false;
    assert.deepEqual(await remote.removeIncomplete('v'), []);
    assert.deepEqual((await remote.list('v')).map((archive) => archive.name), ['v-20260101T000000Z.tar.gz']);
  });
});
