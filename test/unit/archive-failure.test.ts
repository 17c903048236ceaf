import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createArchive } from '../../src/archive/create-archive';
import { LocalTarget } from '../../src/targets/local-target';
import type { Compression } from '../../src/vocabulary/volume-options';
import { makeTempDir } from '../helpers/temp-dir';
import { buildVolume, openFilesUnder } from './archive-fixtures';

const COMPRESSIONS: Compression[] = ['gzip', 'zstd', 'none'];

/** Accepts `limit` bytes, then fails every write, like a disk that filled up. */
function failingOutput(limit: number): Writable {
  let written = 0;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      callback(written > limit ? Object.assign(new Error('no space left on the target'), { code: 'ENOSPC' }) : null);
    },
  });
}

async function volumeWithData(label: string): Promise<{ dir: string; source: string }> {
  const dir = await makeTempDir(label);
  const source = join(dir, 'volume');
  await mkdir(source);
  await buildVolume(source);
  // Random data keeps the compressed stream large enough to fail half-way.
  await writeFile(join(source, 'random.bin'), randomBytes(3_000_000));
  return { dir, source };
}

function zstdChildren(): string {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'zstd'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

describe('createArchive failures', () => {
  for (const compression of COMPRESSIONS) {
    it(`rejects with the output's error and leaves nothing running or open (${compression})`, async () => {
      const { source } = await volumeWithData(`archive-fail-${compression}`);
      await assert.rejects(
        createArchive({ sourceDir: source, compression, exclude: [], output: { kind: 'stream', stream: failingOutput(200_000) } }),
        /no space left on the target/,
      );
      assert.equal(zstdChildren(), '');
      assert.deepEqual(await openFilesUnder(source), []);
    });
  }

  it('leaves no file in the local target when the upload stream fails half-way', async () => {
    const { dir, source } = await volumeWithData('archive-fail-target');
    const target = new LocalTarget(join(dir, 'archives'));
    const upload = await target.beginUpload('vol', 'vol-20240101T000000Z.tar.zst');
    let written = 0;
    upload.stream.on('data', () => undefined);
    const original = upload.stream.write.bind(upload.stream);
    upload.stream.write = ((chunk: Buffer, ...rest: never[]) => {
      written += chunk.length;
      if (written > 100_000) process.nextTick(() => upload.stream.destroy(new Error('target went away')));
      return original(chunk, ...rest);
    }) as typeof upload.stream.write;
    await assert.rejects(createArchive({ sourceDir: source, compression: 'zstd', exclude: [], output: upload }), /target went away/);
    await upload.abort();
    assert.deepEqual(await readdir(join(dir, 'archives', 'vol')), []);
  });

  it('stops when aborted, with the abort reason', async () => {
    const { source } = await volumeWithData('archive-abort');
    const controller = new AbortController();
    const slow = new Writable({
      write(_chunk, _encoding, callback) {
        controller.abort(new Error('backup cancelled'));
        setTimeout(callback, 5);
      },
    });
    await assert.rejects(
      createArchive({ sourceDir: source, compression: 'gzip', exclude: [], output: { kind: 'stream', stream: slow }, signal: controller.signal }),
      /backup cancelled/,
    );
    assert.deepEqual(await openFilesUnder(source), []);
  });

  it('says so when zstd is not installed', async () => {
    const { dir, source } = await volumeWithData('archive-no-zstd');
    // A PATH with mkfifo (coreutils) but no zstd.
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await symlink(execFileSync('which', ['mkfifo'], { encoding: 'utf8' }).trim(), join(bin, 'mkfifo'));
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      await assert.rejects(
        createArchive({ sourceDir: source, compression: 'zstd', exclude: [], output: { kind: 'stream', stream: failingOutput(Infinity) } }),
        /zstd is not installed/,
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it('rejects when the source folder does not exist', async () => {
    const dir = await makeTempDir('archive-no-source');
    await assert.rejects(
      createArchive({ sourceDir: join(dir, 'missing'), compression: 'gzip', exclude: [], output: { kind: 'stream', stream: failingOutput(Infinity) } }),
      /ENOENT/,
    );
  });
});
