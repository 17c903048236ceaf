import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { measureTree } from '../../src/snapshot/measure-tree';
import { makeTempDir } from '../helpers/temp-dir';

describe('measureTree', () => {
  it('adds up the files and counts every entry, non-UTF-8 names included, without following symlinks', async () => {
    const dir = await makeTempDir('measure-tree');
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'big'), Buffer.alloc(100_000));
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'a/b/c'), { recursive: true });
    // More files in one folder than one batch of lstats, so several batches and a partial one.
    for (let i = 0; i < 150; i++) await writeFile(join(tree, 'a', `file-${i}`), Buffer.alloc(10));
    await writeFile(join(tree, 'a/b/c/deep'), Buffer.alloc(7));
    await writeFile(Buffer.concat([Buffer.from(`${tree}/a/b/`), Buffer.from('caf\xe9', 'latin1')]), Buffer.alloc(3));
    await symlink(outside, join(tree, 'a/link-to-outside'));
    await symlink('does/not/exist', join(tree, 'dangling'));

    // Entries: a, a/b, a/b/c, 150 files, deep, café, two symlinks.
    assert.deepEqual(await measureTree({ root: tree }), { bytes: 1500 + 7 + 3, entries: 3 + 150 + 2 + 2 });
  });

  it('leaves out what the exclude globs match, a folder with all it holds', async () => {
    const dir = await makeTempDir('measure-tree-exclude');
    await mkdir(join(dir, 'cache/sub'), { recursive: true });
    await writeFile(join(dir, 'cache/sub/blob'), Buffer.alloc(1000));
    await writeFile(join(dir, 'keep.txt'), Buffer.alloc(5));
    await writeFile(join(dir, 'skip.log'), Buffer.alloc(50));
    assert.deepEqual(await measureTree({ root: dir, exclude: ['cache', '*.log'] }), { bytes: 5, entries: 1 });
  });

  it('takes a missing root for an empty tree', async () => {
    const dir = await makeTempDir('measure-tree-missing');
    assert.deepEqual(await measureTree({ root: join(dir, 'never-there') }), { bytes: 0, entries: 0 });
  });
});
