import assert from 'node:assert/strict';
import { access, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { removeTree } from '../../src/shared/remove-tree';
import { makeTempDir } from '../helpers/temp-dir';

const exists = (path: string) => access(path).then(() => true, () => false);

describe('removeTree', () => {
  it('removes a whole tree, names that are not UTF-8 included, and never follows a symlink out of it', async () => {
    const dir = await makeTempDir('remove-tree');
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'keep'), 'must survive');
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'a/b/c'), { recursive: true });
    for (let i = 0; i < 300; i++) await writeFile(join(tree, 'a', `file-${i}`), `${i}`); // more than one read of the folder
    await writeFile(join(tree, 'a/b/c/deep'), 'x');
    await writeFile(Buffer.concat([Buffer.from(`${tree}/a/b/`), Buffer.from('caf\xe9', 'latin1')]), 'latin1');
    await symlink(outside, join(tree, 'a/link-to-outside'));
    await symlink('does/not/exist', join(tree, 'dangling'));

    await removeTree(tree);
    assert.equal(await exists(tree), false);
    assert.deepEqual(await readdir(outside), ['keep']);
  });

  it('removes a single file, and takes a missing path for done', async () => {
    const dir = await makeTempDir('remove-tree-file');
    await writeFile(join(dir, 'file'), 'x');
    await removeTree(join(dir, 'file'));
    assert.equal(await exists(join(dir, 'file')), false);
    await removeTree(join(dir, 'never-there'));
    await removeTree(join(dir, 'never-there/below'));
  });

  it('reports what it cannot remove', async () => {
    const dir = await makeTempDir('remove-tree-fail');
    await writeFile(join(dir, 'file'), 'x');
    await assert.rejects(removeTree(join(dir, 'file/below')), { code: 'ENOTDIR' });
  });
});
