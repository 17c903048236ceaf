import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, chmod, chown, link, lstat, mkdir, readFile, readlink, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startMirrorPasses, syncMirror } from '../../src/snapshot/sync-mirror';
import { filesWithOutsideContent, startSymlinkSwapper } from '../helpers/symlink-swapper';
import { makeTempDir } from '../helpers/temp-dir';
import { assertSameTree } from '../helpers/tree-compare';

const isRoot = process.getuid?.() === 0;
/** A name that is not UTF-8: a string-path walker would lose this file. */
const LATIN1_NAME = Buffer.from('caf\xe9.txt', 'latin1');

/** A tree with a bit of everything a volume holds. */
async function buildTree(root: string): Promise<void> {
  await mkdir(join(root, 'app/config'), { recursive: true });
  await mkdir(join(root, 'empty'));
  await mkdir(join(root, 'locked'));
  await writeFile(join(root, 'app/config/settings.json'), '{"a":1}');
  await writeFile(join(root, 'app/run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await writeFile(join(root, 'app/secret'), 'token', { mode: 0o600 });
  await writeFile(join(root, 'readonly.txt'), 'frozen', { mode: 0o444 });
  await writeFile(join(root, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  await writeFile(join(root, 'locked/inside'), 'x');
  await chmod(join(root, 'locked'), 0o555);
  await writeFile(Buffer.concat([Buffer.from(`${root}/`), LATIN1_NAME]), 'latin1');
  await symlink('config/settings.json', join(root, 'app/current'));
  await symlink('/etc', join(root, 'outside')); // must stay a link: never followed out of the volume
  await symlink('does/not/exist', join(root, 'dangling'));
  // An mtime with nanoseconds and one in the past, to see them carried over.
  await utimes(join(root, 'app/config/settings.json'), 1_600_000_000.123456, 1_600_000_000.123456);
  await utimes(join(root, 'empty'), 1_500_000_000, 1_500_000_000);
}

async function freshPair(label: string) {
  const dir = await makeTempDir(label);
  const source = join(dir, 'source');
  const mirror = join(dir, 'staging/mirror');
  await mkdir(source);
  await buildTree(source);
  return { source, mirror };
}

describe('syncMirror', () => {
  // A container may swap any name of its volume for a symlink between two calls of the walk: nothing the
  // symlink points to may ever reach the mirror (and from there an archive and a restore).
  it('copies nothing from outside the source while names in it are swapped for symlinks', async () => {
    const dir = await makeTempDir('mirror-swapped');
    const source = join(dir, 'source');
    const mirror = join(dir, 'staging/mirror');
    await mkdir(source);
    const swapper = await startSymlinkSwapper(source, join(dir, 'outside'));
    try {
      for (let pass = 0; pass < 40; pass++) {
        await rm(mirror, { recursive: true, force: true });
        await syncMirror({ source, mirror, sourceIsLive: true });
        assert.deepEqual(await filesWithOutsideContent(mirror), [], `pass ${pass}`);
      }
    } finally {
      await swapper.stop();
    }
  });

  it('keeps hard links: a file with several names is copied once, and stays linked as its names change', async () => {
    const { source, mirror } = await freshPair('mirror-hardlinks');
    await mkdir(join(source, 'other'));
    await writeFile(join(source, 'app/shared'), 'one inode');
    await link(join(source, 'app/shared'), join(source, 'other/second-name'));
    await link(join(source, 'app/shared'), join(source, 'third-name'));
    const first = await syncMirror({ source, mirror });
    assert.equal(first.filesLinked, 2);
    const inodes = async () => Promise.all(['app/shared', 'other/second-name', 'third-name'].map(async (name) => (await lstat(join(mirror, name))).ino));
    const [a, b, c] = await inodes();
    assert.ok(a === b && b === c, 'one inode in the mirror');
    assert.equal((await lstat(join(mirror, 'app/shared'))).nlink, 3);

    const idle = await syncMirror({ source, mirror });
    assert.deepEqual([idle.filesCopied, idle.filesLinked], [0, 0], 'nothing to do when nothing changed');

    // One name leaves the group (a new file of the same size and mtime), the content of the rest changes.
    await rm(join(source, 'third-name'));
    await writeFile(join(source, 'third-name'), 'one inode');
    const mtime = (await lstat(join(source, 'app/shared'))).mtime;
    await utimes(join(source, 'third-name'), mtime, mtime);
    await appendFile(join(source, 'other/second-name'), ' changed');
    await syncMirror({ source, mirror });
    const [a2, b2, c2] = await inodes();
    assert.equal(a2, b2);
    assert.notEqual(a2, c2);
    assert.equal(await readFile(join(mirror, 'app/shared'), 'utf8'), 'one inode changed');
    assert.equal(await readFile(join(mirror, 'third-name'), 'utf8'), 'one inode');
    await assertSameTree(source, mirror);
  });

  it('makes an exact copy: content, types, symlinks as links, modes, mtimes, odd names', async () => {
    const { source, mirror } = await freshPair('mirror-create');
    const stats = await syncMirror({ source, mirror });
    await assertSameTree(source, mirror);
    assert.equal(await readlink(join(mirror, 'outside')), '/etc');
    assert.equal(stats.filesCopied, 10); // 7 files and 3 symlinks
    assert.equal(stats.bytesCopied, 3 * 1024 * 1024 + 7 + 18 + 5 + 6 + 1 + 6);
    assert.equal(stats.entriesRemoved, 0);
  });

  it('follows creations, changes, deletions, chmod, retargeted links, type changes and mtime-only changes', async () => {
    const { source, mirror } = await freshPair('mirror-changes');
    await syncMirror({ source, mirror });

    await writeFile(join(source, 'app/new.txt'), 'new');
    await appendFile(join(source, 'app/run.sh'), 'echo more\n');
    await writeFile(join(source, 'app/secret'), 'TOKEN'); // same size, new mtime
    await rm(join(source, 'app/config'), { recursive: true });
    await chmod(join(source, 'readonly.txt'), 0o640);
    await rm(join(source, 'app/current'));
    await symlink('run.sh', join(source, 'app/current'));
    await rm(join(source, 'empty'), { recursive: true });
    await writeFile(join(source, 'empty'), 'now a file');
    await rm(join(source, 'dangling'));
    await mkdir(join(source, 'dangling'));
    await utimes(join(source, 'big.bin'), 1_234_567_890, 1_234_567_890);

    const stats = await syncMirror({ source, mirror });
    await assertSameTree(source, mirror);
    // new.txt, run.sh, secret, empty (now a file), big.bin (mtime) copied; the link rewritten.
    assert.equal(stats.filesCopied, 6);
    assert.equal(stats.entriesRemoved, 1); // app/config, once for the whole directory
    // readonly.txt (a chmod needs no copy), and the root and app/, whose entries changed.
    assert.equal(stats.metadataUpdated, 3);
  });

  it('copies nothing the second time, and only what changed after that', async () => {
    const { source, mirror } = await freshPair('mirror-quick');
    await mkdir(join(source, 'many'));
    for (let i = 0; i < 50; i++) await writeFile(join(source, `many/file-${i}`), `content ${i}`);
    await syncMirror({ source, mirror });

    const idle = await syncMirror({ source, mirror });
    assert.deepEqual(
      { copied: idle.filesCopied, bytes: idle.bytesCopied, removed: idle.entriesRemoved, updated: idle.metadataUpdated },
      { copied: 0, bytes: 0, removed: 0, updated: 0 },
    );
    assert.equal(idle.entriesScanned, 14 + 51); // the tree, then many/ and its files

    await writeFile(join(source, 'many/file-3'), 'changed three');
    await writeFile(join(source, 'many/file-40'), 'changed 40');
    const changed = await syncMirror({ source, mirror });
    assert.equal(changed.filesCopied, 2);
    assert.equal(changed.bytesCopied, 'changed three'.length + 'changed 40'.length);
    await assertSameTree(source, mirror);
  });

  it('leaves excluded paths out and removes them from an existing mirror', async () => {
    const { source, mirror } = await freshPair('mirror-exclude');
    await mkdir(join(source, 'cache/deep'), { recursive: true });
    await writeFile(join(source, 'cache/deep/blob'), 'cached');
    await writeFile(join(source, 'debug.log'), 'log');
    await writeFile(join(source, 'app/trace.log'), 'log');
    await syncMirror({ source, mirror });

    const exclude = ['*.log', 'cache/', 'app/secret'];
    const stats = await syncMirror({ source, mirror, exclude });
    assert.equal(stats.entriesRemoved, 4);
    const excluded = new Set(['debug.log', 'app/trace.log', 'cache', 'app/secret']);
    await assertSameTree(source, mirror, { skip: (path) => excluded.has(path) });
    // The directories whose entries went away got their source mtimes back all the same.
    assert.equal((await syncMirror({ source, mirror, exclude })).metadataUpdated, 0);
  });

  it('keeps owners', { skip: !isRoot && 'chown needs root' }, async () => {
    const { source, mirror } = await freshPair('mirror-owner');
    await chown(join(source, 'app/secret'), 1234, 5678);
    await chown(join(source, 'app'), 999, 999);
    await syncMirror({ source, mirror });
    await assertSameTree(source, mirror, { ownership: true });
    const secret = await lstat(join(mirror, 'app/secret'));
    assert.deepEqual([secret.uid, secret.gid], [1234, 5678]);
  });

  it('skips sockets, FIFOs and devices, and counts them', async () => {
    const { source, mirror } = await freshPair('mirror-fifo');
    execFileSync('mkfifo', [join(source, 'pipe')]);
    const stats = await syncMirror({ source, mirror });
    assert.equal(stats.entriesSkipped, 1);
    await assertSameTree(source, mirror, { skip: (path) => path === 'pipe' });
  });

  it('on a live source, stamps files written just now so that the next pass copies them again', async () => {
    const { source, mirror } = await freshPair('mirror-racy');
    await writeFile(join(source, 'app/hot.db'), 'page 1'); // mtime: now, a write in this tick could follow
    await utimes(join(source, 'readonly.txt'), 1_600_000_000, 1_600_000_000); // long settled
    await syncMirror({ source, mirror, sourceIsLive: true });
    assert.equal((await lstat(join(mirror, 'app/hot.db'))).mtimeMs, 0);
    assert.equal((await lstat(join(mirror, 'readonly.txt'))).mtimeMs, 1_600_000_000_000);

    const quiesced = await syncMirror({ source, mirror });
    assert.ok(quiesced.filesCopied >= 1);
    await assertSameTree(source, mirror);
    assert.equal((await syncMirror({ source, mirror })).filesCopied, 0);
  });

  it('refuses a mirror inside its source and a source inside its mirror', async () => {
    const { source } = await freshPair('mirror-nesting');
    await assert.rejects(syncMirror({ source, mirror: join(source, 'app/mirror') }), /must not contain each other/);
    await assert.rejects(syncMirror({ source: join(source, 'app'), mirror: source }), /must not contain each other/);
  });

  it('reports a failure inside the walk with its code', async () => {
    const { source } = await freshPair('mirror-fail');
    // A path that fits in the source but not under a mirror root 300 characters longer (PATH_MAX 4096).
    const deep = Array.from({ length: 19 }, (_, i) => `${i}`.padEnd(200, 'd')).join('/');
    await mkdir(join(source, deep), { recursive: true });
    const mirror = join(source, '..', 'm'.padEnd(250, 'm'), 'n'.padEnd(50, 'n'));
    await assert.rejects(syncMirror({ source, mirror }), (error: Error) => {
      assert.match(error.message, /^mirroring .* failed: ENAMETOOLONG/);
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENAMETOOLONG');
      return true;
    });
  });

  it('replaces whatever has the mirror name when it is not a directory', async () => {
    const { source, mirror } = await freshPair('mirror-root-file');
    await mkdir(join(mirror, '..'), { recursive: true });
    await writeFile(mirror, 'not a directory');
    await syncMirror({ source, mirror });
    await assertSameTree(source, mirror);
  });
});

describe('startMirrorPasses', () => {
  it('makes the live pass, then on the go the pass that catches what changed in between', async () => {
    const { source, mirror } = await freshPair('mirror-passes');
    const passes = await startMirrorPasses({ source, mirror });
    const live = await passes.live();
    assert.ok(live.filesCopied > 0);
    await writeFile(join(source, 'written-after-the-live-pass'), 'late');
    await rm(join(source, 'app/secret'));
    const stopped = await passes.stopped();
    assert.ok(stopped.filesCopied >= 1, 'the late file is copied');
    assert.ok(stopped.entriesRemoved >= 1, 'the removed file is removed');
    await passes.cancel();
    await assertSameTree(source, mirror);
  });

  it('after the stop, trusts the live pass for what has not changed since, and still catches every change', async () => {
    const { source, mirror } = await freshPair('mirror-passes-settled');
    await mkdir(join(source, 'calm'));
    for (let i = 0; i < 20; i++) await writeFile(join(source, `calm/file-${i}`), `content ${i}`);
    // Only entries whose ctime is over 2 s old are trusted (settled-entries.ts): let the tree settle.
    await delay(2_100);
    const passes = await startMirrorPasses({ source, mirror });
    const live = await passes.live();
    assert.equal(live.entriesSettled, 0);

    await writeFile(join(source, 'app/new.txt'), 'new'); // a name added to a settled folder
    // A file rewritten in a folder whose names stay: the folder is trusted, its mirror mtime set again.
    await writeFile(join(source, 'app/config/settings.json'), '{"a":2}');
    await rm(join(source, 'calm/file-3')); // and one removed
    await rename(join(source, 'calm/file-4'), join(source, 'calm/file-4b'));
    await writeFile(join(source, 'calm/file-5'), 'CONTENT 5'); // same size
    await utimes(join(source, 'calm/file-5'), 1_600_000_000, 1_600_000_000); // and an mtime set back
    await chmod(join(source, 'app/secret'), 0o640);
    await rm(join(source, 'app/current'));
    await symlink('run.sh', join(source, 'app/current'));
    await rm(join(source, 'empty'), { recursive: true });
    await writeFile(join(source, 'empty'), 'now a file');
    const stopped = await passes.stopped();
    await assertSameTree(source, mirror);
    assert.equal(await readFile(join(mirror, 'calm/file-5'), 'utf8'), 'CONTENT 5');
    // calm/ and the root changed their names; the 17 calm files untouched and most of the rest did not.
    assert.ok(stopped.entriesSettled >= 17, `${stopped.entriesSettled} entries trusted`);
    assert.ok(stopped.entriesSettled < stopped.entriesScanned);
  });

  it('ends its waiting worker when the second pass is not wanted, and reports a failed live pass', async () => {
    const { source, mirror } = await freshPair('mirror-passes-cancel');
    const passes = await startMirrorPasses({ source, mirror });
    await passes.live();
    await passes.cancel();
    await assert.rejects(passes.stopped(), /not made/);

    const dir = await makeTempDir('mirror-passes-fail');
    await writeFile(join(dir, 'not-a-folder'), 'x');
    const failing = await startMirrorPasses({ source: join(dir, 'not-a-folder'), mirror: join(dir, 'staging/mirror') });
    await assert.rejects(failing.live(), /mirroring .* failed/);
    await failing.cancel();
  });
});
