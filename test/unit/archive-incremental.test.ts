import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, chmod, link, mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createArchive } from '../../src/archive/create-archive';
import { extractArchive } from '../../src/archive/extract-archive';
import type { Compression } from '../../src/vocabulary/volume-options';
import { compareTrees } from '../helpers/tree-compare';
import { makeTempDir } from '../helpers/temp-dir';

/** ustar keeps whole seconds. */
const SECOND_NS = 1_000_000_000n;

/** Each step changes the volume the way the issue lists; the archive made after it holds that point. */
const STEPS: Array<[string, (volume: string) => Promise<void>]> = [
  ['append to a file', (v) => appendFile(join(v, 'log.txt'), 'more\n')],
  ['delete a folder', (v) => rm(join(v, 'old'), { recursive: true })],
  ['rename a file, chmod another', async (v) => {
    await rename(join(v, 'notes.txt'), join(v, 'docs', 'notes.md'));
    await chmod(join(v, 'run.sh'), 0o700);
  }],
  ['retarget a symlink, add nested folders and a hard link', async (v) => {
    await unlink(join(v, 'current'));
    await symlink('docs', join(v, 'current'));
    await mkdir(join(v, 'a', 'b', 'c'), { recursive: true });
    await writeFile(join(v, 'a', 'b', 'c', 'deep.txt'), 'deep');
    await link(join(v, 'log.txt'), join(v, 'a', 'log-link.txt'));
  }],
  ['file to folder and folder to file', async (v) => {
    await unlink(join(v, 'thing'));
    await mkdir(join(v, 'thing'));
    await writeFile(join(v, 'thing', 'inside.txt'), 'now a folder');
    await rm(join(v, 'docs2'), { recursive: true });
    await writeFile(join(v, 'docs2'), 'now a file');
  }],
  ['no change', async () => undefined],
];

async function buildVolume(volume: string): Promise<void> {
  await mkdir(join(volume, 'old', 'inner'), { recursive: true });
  await writeFile(join(volume, 'old', 'inner', 'gone.txt'), 'gone soon');
  await mkdir(join(volume, 'docs'));
  await mkdir(join(volume, 'docs2'));
  await writeFile(join(volume, 'docs2', 'x.txt'), 'x');
  await writeFile(join(volume, 'log.txt'), 'first\n');
  await writeFile(join(volume, 'notes.txt'), 'notes');
  await writeFile(join(volume, 'run.sh'), '#!/bin/sh\n', { mode: 0o644 });
  await writeFile(join(volume, 'thing'), 'a file for now');
  await symlink('old', join(volume, 'current'));
}

async function pack(volume: string, archive: string, compression: Compression, previousIndex: string | undefined, nextIndex: string) {
  const output = createWriteStream(archive);
  const result = await createArchive({ sourceDir: volume, compression, exclude: [], output: { kind: 'local-file', stream: output }, chain: { previousIndex, nextIndex, trustInode: true } });
  if (!output.closed) await finished(output);
  return result;
}

describe('incremental chains in GNU tar format', () => {
  it('every point, applied from an empty folder by GNU tar and by the restore, is the tree at that time', async () => {
    const dir = await makeTempDir('chain');
    const volume = join(dir, 'volume');
    await mkdir(volume);
    await buildVolume(volume);
    const points: Array<{ archive: string; expected: string; fileCount: number }> = [];
    const snapshot = async (index: number, previousIndex?: string) => {
      const archive = join(dir, `${index}.tar.gz`);
      const nextIndex = join(dir, `${index}.index`);
      const { fileCount } = await pack(volume, archive, 'gzip', previousIndex, nextIndex);
      const expected = join(dir, `expected-${index}`);
      execFileSync('cp', ['-a', volume, expected]);
      points.push({ archive, expected, fileCount });
      return nextIndex;
    };
    let index = await snapshot(0);
    for (const [position, [, change]] of STEPS.entries()) {
      await change(volume);
      index = await snapshot(position + 1, index);
    }
    assert.equal(points[0].fileCount, 6, 'the full archive holds every file');
    assert.equal(points[1].fileCount, 1, 'the append stores the one file that changed');
    assert.equal(points.at(-1)?.fileCount, 0, 'a run with no change stores no file');

    for (const [point, { expected }] of points.entries()) {
      const byTar = join(dir, `tar-${point}`);
      await mkdir(byTar);
      for (const { archive } of points.slice(0, point + 1)) execFileSync('tar', ['--extract', '--incremental', '-z', '-f', archive, '-C', byTar]);
      const what = point === 0 ? 'the full archive' : STEPS[point - 1][0];
      assert.deepEqual(await compareTrees(expected, byTar, { mtimeToleranceNs: SECOND_NS }), [], `GNU tar, after: ${what}`);
    }

    const byRestore = join(dir, 'restore');
    await mkdir(byRestore);
    for (const [point, { archive, expected }] of points.entries()) {
      await extractArchive({ input: createReadStream(archive), compression: 'gzip', destination: byRestore });
      const what = point === 0 ? 'the full archive' : STEPS[point - 1][0];
      assert.deepEqual(await compareTrees(expected, byRestore, { mtimeToleranceNs: SECOND_NS }), [], `restore, after: ${what}`);
    }
  });
});
