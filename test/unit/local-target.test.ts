import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { LocalTarget } from '../../src/targets/local-target';
import { sampleManifest as manifest } from '../helpers/target-fixtures';
import { makeTempDir } from '../helpers/temp-dir';

async function store(target: LocalTarget, archive: string, created: string, content = 'hello'): Promise<void> {
  const upload = await target.beginUpload('v', archive);
  await pipeline(Readable.from([content]), upload.stream);
  await upload.commit();
  await target.writeManifest('v', manifest(archive, created));
}

describe('LocalTarget', () => {
  it('lists only archives with a manifest, newest first, and reads them back', async () => {
    const root = await makeTempDir('target');
    const target = new LocalTarget(root);
    await store(target, 'v-20260101T000000Z.tar.gz', '2026-01-01T00:00:00.000Z', 'old');
    await store(target, 'v-20260102T000000Z.tar.gz', '2026-01-02T00:00:00.000Z', 'new');
    const upload = await target.beginUpload('v', 'v-20260103T000000Z.tar.gz');
    await pipeline(Readable.from(['no manifest yet']), upload.stream);
    await upload.commit();
    assert.deepEqual(
      (await target.list('v')).map((archive) => archive.name),
      ['v-20260102T000000Z.tar.gz', 'v-20260101T000000Z.tar.gz'],
    );
    const chunks: Buffer[] = [];
    for await (const chunk of await target.open('v', 'v-20260101T000000Z.tar.gz')) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'old');
    assert.deepEqual(await target.list('never-backed-up'), []);
  });

  it('keeps an upload invisible until commit and leaves nothing after abort', async () => {
    const root = await makeTempDir('target');
    const target = new LocalTarget(root);
    const upload = await target.beginUpload('v', 'v-20260101T000000Z.tar.gz');
    upload.stream.write('partial');
    assert.deepEqual((await readdir(join(root, 'v'))).filter((name) => !name.startsWith('.partial-')), []);
    await upload.abort();
    assert.deepEqual(await readdir(join(root, 'v')), []);
  });

  it('removes leftovers of an interrupted run and keeps complete archives', async () => {
    const root = await makeTempDir('target');
    const target = new LocalTarget(root);
    await store(target, 'v-20260101T000000Z.tar.gz', '2026-01-01T00:00:00.000Z');
    await writeFile(join(root, 'v', '.partial-v-20260102T000000Z.tar.gz'), 'x');
    await writeFile(join(root, 'v', 'v-20260103T000000Z.tar.gz'), 'no manifest');
    await writeFile(join(root, 'v', 'v-20260104T000000Z.tar.gz.json'), '{}');
    await writeFile(join(root, 'v', 'README.txt'), 'not ours');
    const removed = await target.removeIncomplete('v');
    assert.deepEqual(removed.sort(), [
      '.partial-v-20260102T000000Z.tar.gz',
      'v-20260103T000000Z.tar.gz',
      'v-20260104T000000Z.tar.gz.json',
    ]);
    assert.deepEqual((await readdir(join(root, 'v'))).sort(), [
      'README.txt',
      'v-20260101T000000Z.tar.gz',
      'v-20260101T000000Z.tar.gz.json',
    ]);
    assert.equal(JSON.parse(await readFile(join(root, 'v', 'v-20260101T000000Z.tar.gz.json'), 'utf8')).volume, 'v');
  });

  it('deletes nothing when a manifest cannot be read: a damaged one makes its archive incomplete, a failed read is an error', async () => {
    const root = await makeTempDir('target');
    const target = new LocalTarget(root);
    await store(target, 'v-20260101T000000Z.tar.gz', '2026-01-01T00:00:00.000Z');
    await writeFile(join(root, 'v', 'v-20260102T000000Z.tar.gz'), 'x');
    await writeFile(join(root, 'v', 'v-20260102T000000Z.tar.gz.json'), '{ not json');
    assert.deepEqual((await target.removeIncomplete('v')).sort(), ['v-20260102T000000Z.tar.gz', 'v-20260102T000000Z.tar.gz.json']);
    // A manifest that cannot be read (here: a folder in its place) may be fine a moment later.
    await store(target, 'v-20260103T000000Z.tar.gz', '2026-01-03T00:00:00.000Z');
    await mkdir(join(root, 'v', 'v-20260104T000000Z.tar.gz.json'));
    await writeFile(join(root, 'v', 'v-20260104T000000Z.tar.gz'), 'x');
    await assert.rejects(target.removeIncomplete('v'), { code: 'EISDIR' });
    await assert.rejects(target.list('v'), { code: 'EISDIR' });
    assert.equal((await readdir(join(root, 'v'))).length, 6, 'nothing was removed');
  });

  it('removes the manifest with the archive', async () => {
    const root = await makeTempDir('target');
    const target = new LocalTarget(root);
    await store(target, 'v-20260101T000000Z.tar.gz', '2026-01-01T00:00:00.000Z');
    await target.remove('v', 'v-20260101T000000Z.tar.gz');
    assert.deepEqual(await readdir(join(root, 'v')), []);
  });
});
