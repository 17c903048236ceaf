import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Compression } from '../../src/vocabulary/volume-options';
import { filesWithOutsideContent, startSymlinkSwapper } from '../helpers/symlink-swapper';
import { makeTempDir } from '../helpers/temp-dir';
import { archiveToFile, buildVolume, describeTree, extractWithSystemTar, isRoot, systemTarList } from './archive-fixtures';

const COMPRESSIONS: Compression[] = ['gzip', 'zstd', 'none'];

describe('createArchive round trip through the system tar', () => {
  for (const compression of COMPRESSIONS) {
    it(`restores an identical tree (${compression})`, async () => {
      const dir = await makeTempDir(`archive-${compression}`);
      const source = join(dir, 'volume');
      await mkdir(source);
      await buildVolume(source);
      const archive = join(dir, `volume.${compression}`);
      const result = await archiveToFile(source, archive, compression);

      const restored = join(dir, 'restored');
      await mkdir(restored);
      extractWithSystemTar(archive, compression, restored);
      assert.deepEqual(await describeTree(restored), await describeTree(source));

      // hello.txt, its hard link, secret.key, run.sh, empty-file, big.txt, the long-named file, the
      // unicode one, and owned.txt when running as root.
      assert.equal(result.fileCount, isRoot ? 9 : 8);
      assert.equal(result.bytes, (await stat(archive)).size);
      const sha256sum = execFileSync('sha256sum', [archive], { encoding: 'utf8' }).split(' ')[0];
      assert.equal(result.sha256, sha256sum);
    });
  }

  // A live backup (backup-stop=none, or direct mode with a writer left running): a container may swap any
  // name of its volume for a symlink between two calls of the packer.
  it('archives nothing from outside the volume while names in it are swapped for symlinks', async () => {
    const dir = await makeTempDir('archive-swapped');
    const source = join(dir, 'volume');
    await mkdir(source);
    const swapper = await startSymlinkSwapper(source, join(dir, 'outside'));
    try {
      for (let run = 0; run < 30; run++) {
        const archive = join(dir, `swapped-${run}.tar`);
        await archiveToFile(source, archive, 'none');
        const restored = join(dir, `restored-${run}`);
        await mkdir(restored);
        extractWithSystemTar(archive, 'none', restored);
        assert.deepEqual(await filesWithOutsideContent(restored), [], `run ${run}`);
      }
    } finally {
      await swapper.stop();
    }
  });

  it('stores entries relative to the volume root, root first, and owners as numbers', async () => {
    const dir = await makeTempDir('archive-layout');
    const source = join(dir, 'volume');
    await mkdir(source);
    await buildVolume(source);
    const archive = join(dir, 'volume.tar.gz');
    await archiveToFile(source, archive, 'gzip');
    const names = systemTarList(archive, 'gzip');
    assert.equal(names[0], './');
    assert.ok(names.every((name) => !name.startsWith('/') && !name.split('/').includes('..')));
    assert.ok(names.includes('empty-dir/'));
    const verbose = execFileSync('tar', ['-tvzf', archive, 'hello.txt'], { encoding: 'utf8' });
    assert.match(verbose, /^-rw-r--r-- \d+\/\d+ /, 'numeric owner, no user names');
  });

  it('writes the same bytes for the same tree', async () => {
    const dir = await makeTempDir('archive-deterministic');
    const source = join(dir, 'volume');
    await mkdir(source);
    await buildVolume(source);
    const first = await archiveToFile(source, join(dir, 'one.tar.zst'), 'zstd');
    const second = await archiveToFile(source, join(dir, 'two.tar.zst'), 'zstd');
    assert.equal(first.sha256, second.sha256);
  });
});
