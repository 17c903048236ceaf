import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream, WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createArchive } from '../../src/archive/create-archive';
import { LocalTarget } from '../../src/targets/local-target';
import type { Compression } from '../../src/vocabulary/volume-options';
import { makeTempDir } from '../helpers/temp-dir';
import { archiveToFile, buildVolume, describeTree, extractWithSystemTar, openFilesUnder } from './archive-fixtures';

const COMPRESSIONS: Compression[] = ['gzip', 'zstd', 'none'];

/** Deterministic bytes that do not compress (xorshift), different for every seed. */
function noise(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  let state = seed * 2654435761 + 1;
  for (let index = 0; index < size; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

/**
 * ~12 MiB in files of many sizes: far more than the packing worker's pool of batches, so every batch is
 * reused several times, and a batch reused before its bytes reached the output would show in the tree.
 */
async function largerVolume(label: string): Promise<{ dir: string; source: string }> {
  const dir = await makeTempDir(label);
  const source = join(dir, 'volume');
  await mkdir(source);
  await buildVolume(source);
  for (let folder = 0; folder < 6; folder++) {
    await mkdir(join(source, `folder-${folder}`));
    for (let file = 0; file < 40; file++) {
      const seed = folder * 100 + file + 1;
      await writeFile(join(source, `folder-${folder}`, `file-${file}.bin`), noise(((seed * 7919) % 90_000) + 1, seed));
    }
  }
  await writeFile(join(source, 'large.bin'), noise(3_500_000, 424242));
  return { dir, source };
}

/** A generic output that keeps every chunk it was given and calls back later, as an upload might. */
function keepingOutput(): { output: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      setImmediate(callback);
    },
  });
  return { output, bytes: () => Buffer.concat(chunks) };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('createArchive outputs', () => {
  it('gets a plain file stream, declared a local file, from the local target', async () => {
    const target = new LocalTarget(join(await makeTempDir('archive-output-kind'), 'archives'));
    const upload = await target.beginUpload('v', 'v-20260101T000000Z.tar');
    assert.equal(upload.kind, 'local-file');
    assert.equal(upload.stream.constructor, WriteStream, 'neither subclassed');
    assert.ok(!Object.hasOwn(upload.stream, '_write') && !Object.hasOwn(upload.stream, '_writev'), 'nor patched');
    await upload.abort();
  });

  for (const compression of COMPRESSIONS) {
    it(`stores the same bytes in a file as in a generic output, hashed right, with reused buffers (${compression})`, async () => {
      const { dir, source } = await largerVolume(`archive-output-${compression}`);
      const archive = join(dir, `volume.${compression}`);
      const toFile = await archiveToFile(source, archive, compression);
      const kept = keepingOutput();
      const toGeneric = await createArchive({ sourceDir: source, compression, exclude: [], output: { kind: 'stream', stream: kept.output } });

      const stored = await readFile(archive);
      assert.equal(toFile.bytes, stored.length);
      assert.equal(toFile.sha256, sha256(stored), 'the sha256 is that of the stored bytes');
      assert.equal(toGeneric.sha256, sha256(kept.bytes()));
      assert.equal(toGeneric.bytes, kept.bytes().length);
      assert.equal(toFile.sha256, toGeneric.sha256, 'the same archive either way');

      const restored = join(dir, 'restored');
      await mkdir(restored);
      extractWithSystemTar(archive, compression, restored);
      assert.deepEqual(await describeTree(restored), await describeTree(source));
    });

    it(`rejects with the file's error and leaves nothing open when a local file fills up (${compression})`, async () => {
      const { source } = await largerVolume(`archive-output-full-${compression}`);
      const output = createWriteStream('/dev/full');
      await assert.rejects(createArchive({ sourceDir: source, compression, exclude: [], output: { kind: 'local-file', stream: output } }), { code: 'ENOSPC' });
      assert.ok(output.destroyed, 'the output is destroyed on failure');
      assert.deepEqual(await openFilesUnder(source), []);
    });
  }

  it('stops writing to a local file when aborted, with the abort reason', async () => {
    const { dir, source } = await largerVolume('archive-output-abort');
    const controller = new AbortController();
    const output = createWriteStream(join(dir, 'aborted.tar'));
    output.once('open', () => controller.abort(new Error('backup cancelled')));
    await assert.rejects(createArchive({ sourceDir: source, compression: 'none', exclude: [], output: { kind: 'local-file', stream: output }, signal: controller.signal }), /backup cancelled/);
    assert.ok(output.destroyed);
    assert.deepEqual(await openFilesUnder(source), []);
  });
});
