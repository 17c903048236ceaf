import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { ArchiveResult } from '../../src/archive/create-archive';
import { extractArchive, type ExtractOptions } from '../../src/archive/extract-archive';
import type { Compression } from '../../src/vocabulary/volume-options';
import { craftTar, type CraftedEntry } from '../helpers/craft-tar';
import { makeTempDir } from '../helpers/temp-dir';
import { assertSameTree } from '../helpers/tree-compare';
import { archiveToFile, buildVolume, isRoot } from './archive-fixtures';

/** ustar keeps whole seconds; the fixture's mtimes have fractions. */
const WHOLE_SECONDS = 1_000_000_000n;

async function extractCrafted(entries: CraftedEntry[]): Promise<{ destination: string; outside: string; result: Promise<unknown> }> {
  const dir = await makeTempDir('restore-hostile');
  const destination = join(dir, 'volume');
  const outside = join(dir, 'outside');
  await mkdir(destination);
  await mkdir(outside);
  const result = extractArchive({ input: Readable.from([craftTar(entries)]), compression: 'none', destination });
  result.catch(() => undefined);
  return { destination, outside, result };
}

/** Archives buildVolume's tree, extracts it with `options` and checks the result against the source. */
async function roundTrip(compression: Compression, options: Partial<ExtractOptions>): Promise<{ created: ArchiveResult }> {
  const dir = await makeTempDir(`restore-round-trip-${compression}`);
  const source = join(dir, 'source');
  const restored = join(dir, 'restored');
  await mkdir(source);
  await mkdir(restored);
  await buildVolume(source);
  const archive = join(dir, 'archive');
  const created = await archiveToFile(source, archive, compression);
  const result = await extractArchive({ keepSpecialBits: true, ...options, input: createReadStream(archive), compression, destination: restored });
  assert.equal(result.sha256, created.sha256);
  assert.equal(result.bytes, created.bytes);
  assert.equal(result.fileCount, created.fileCount);
  await assertSameTree(source, restored, { mtimeToleranceNs: WHOLE_SECONDS });
  return { created };
}

describe('extractArchive', () => {
  for (const compression of ['gzip', 'zstd', 'none'] as Compression[]) {
    it(`restores what createArchive archived, metadata included (${compression})`, async () => {
      const progress: number[] = [];
      const { created } = await roundTrip(compression, { onProgress: (bytes) => progress.push(bytes) });
      assert.equal(progress.at(-1), created.bytes);
    });

    // Batches of 700 bytes put their boundaries inside headers and bodies, and each batch is refilled as
    // soon as it comes back: a view the reader kept of a batch would read the bytes written into it next.
    it(`restores the same tree with 700-byte batches, 2 of them (${compression})`, async () => {
      await roundTrip(compression, { tuning: { batchBytes: 700, poolSize: 2 } });
    });
  }

  it('refuses a batch size that is not a positive integer', async () => {
    const dir = await makeTempDir('restore-bad-batches');
    const input = Readable.from([craftTar([{ path: 'file', body: 'x' }])]);
    await assert.rejects(extractArchive({ input, compression: 'none', destination: dir, tuning: { batchBytes: 0, poolSize: 2 } }), /positive integer/);
  });

  it('reports the sha256 of the bytes it read, so a flipped byte shows even where tar cannot see it', async () => {
    const dir = await makeTempDir('restore-digest');
    const source = join(dir, 'source');
    await mkdir(source);
    await writeFile(join(source, 'data.txt'), 'x'.repeat(10_000));
    const archive = join(dir, 'archive.tar');
    const created = await archiveToFile(source, archive, 'none');
    const bytes = await readFile(archive);
    bytes[1024 + 100] ^= 0x01; // in data.txt's content (after the headers of ./ and data.txt): tar cannot tell
    const restored = join(dir, 'restored');
    await mkdir(restored);
    const result = await extractArchive({ input: Readable.from([bytes]), compression: 'none', destination: restored });
    assert.notEqual(result.sha256, created.sha256);
    assert.equal(result.sha256, createHash('sha256').update(bytes).digest('hex'));
  });

  it('rejects a gzip archive with a flipped byte', async () => {
    const dir = await makeTempDir('restore-corrupt');
    const source = join(dir, 'source');
    await mkdir(source);
    await buildVolume(source);
    const archive = join(dir, 'archive.tar.gz');
    await archiveToFile(source, archive, 'gzip');
    const bytes = await readFile(archive);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const restored = join(dir, 'restored');
    await mkdir(restored);
    await assert.rejects(extractArchive({ input: Readable.from([bytes]), compression: 'gzip', destination: restored }));
  });

  it('refuses content that does not fit in the room it was given', async () => {
    const dir = await makeTempDir('restore-room');
    await mkdir(join(dir, 'volume'));
    const input = Readable.from([craftTar([{ path: 'big', body: 'y'.repeat(5000) }])]);
    await assert.rejects(extractArchive({ input, compression: 'none', destination: join(dir, 'volume'), roomBytes: 4096 }), /does not fit in the free space/);
  });

  const hostile: Array<[string, CraftedEntry[], RegExp]> = [
    ['a path with ..', [{ path: '../outside/escaped.txt', body: 'gotcha' }], /climbs out of the volume/],
    ['an absolute path', [{ path: '/tmp/absolute-escape.txt', body: 'gotcha' }], /absolute path/],
    [
      'a file written through a symlink to an absolute folder',
      [{ path: 'link', type: 'SymbolicLink', linkpath: '/' }, { path: 'link/tmp/through-symlink.txt', body: 'gotcha' }],
      /goes through the symlink "link"/,
    ],
    ['a relative symlink that climbs out', [{ path: 'up', type: 'SymbolicLink', linkpath: '../outside' }], /outside the volume/],
    ['a hard link to a file outside', [{ path: 'hard', type: 'Link', linkpath: '../outside/secret' }], /climbs out of the volume/],
    ['a device node', [{ path: 'sda', type: 'BlockDevice' }], /device node/],
    ['an entry type it does not restore (a GNU sparse file)', [{ path: 'sparse', type: 'SparseFile' }], /unsupported entry type \(SparseFile\)/],
  ];
  for (const [what, entries, message] of hostile) {
    it(`refuses an archive with ${what} and writes nothing outside`, async () => {
      const { result, outside } = await extractCrafted(entries);
      await assert.rejects(result, message);
      assert.deepEqual(await readdir(outside), []);
    });
  }

  /**
   * The directory metadata pass runs after every entry is written: an entry that later replaced a
   * directory with a symlink must not lead it (chmod, chown, utimes) to whatever the symlink names.
   */
  const replacedDirectories: Array<[string, (canary: string, outside: string) => CraftedEntry[]]> = [
    [
      'a directory later replaced by a symlink to a host file',
      (canary) => [
        { path: 'a', type: 'Directory', mode: 0o4777, uid: 1234, gid: 1234, mtime: new Date('2001-01-01T00:00:00Z') },
        { path: 'a', type: 'SymbolicLink', linkpath: canary },
      ],
    ],
    [
      'a directory below one later replaced by a symlink to a host folder',
      (_canary, outside) => [
        { path: 'd', type: 'Directory' },
        { path: 'd/canary', type: 'Directory', mode: 0o4777, uid: 1234, gid: 1234, mtime: new Date('2001-01-01T00:00:00Z') },
        { path: 'd', type: 'SymbolicLink', linkpath: outside },
      ],
    ],
  ];
  for (const [what, entries] of replacedDirectories) {
    it(`leaves a host file alone after ${what}`, async () => {
      const dir = await makeTempDir('restore-replaced');
      const destination = join(dir, 'volume');
      const outside = join(dir, 'outside');
      const canary = join(outside, 'canary');
      await mkdir(destination);
      await mkdir(outside);
      await writeFile(canary, 'host file', { mode: 0o600 });
      const before = await stat(canary);
      await extractArchive({ input: Readable.from([craftTar(entries(canary, outside))]), compression: 'none', destination }).catch(() => undefined);
      const after = await stat(canary);
      assert.deepEqual(
        [after.mode, after.uid, after.gid, after.mtimeMs, await readFile(canary, 'utf8')],
        [before.mode, before.uid, before.gid, before.mtimeMs, 'host file'],
      );
    });
  }

  it('gives a name the metadata of its last entry: a directory replaced by a hard link leaves the file alone', async () => {
    const { destination, result } = await extractCrafted([
      { path: 'file', body: 'content', mode: 0o640 },
      { path: 'h', type: 'Directory', mode: 0o777, mtime: new Date('2001-01-01T00:00:00Z') },
      { path: 'h', type: 'Link', linkpath: 'file' },
    ]);
    await result;
    const file = await stat(join(destination, 'file'));
    assert.equal(file.mode & 0o7777, 0o640);
    assert.equal(file.mtime.toISOString(), '2024-01-02T03:04:05.000Z');
  });

  it('refuses a hard link to a name the archive never gave, and makes no folder for it', async () => {
    const { destination, result } = await extractCrafted([{ path: 'h', type: 'Link', linkpath: 'missing/dir/file' }]);
    await assert.rejects(result, /archive entry "h" is a hard link to "missing\/dir\/file", which no earlier entry holds/);
    assert.deepEqual(await readdir(destination), []);
  });

  it('drops set-user-ID and set-group-ID bits unless asked to keep them; keeps the sticky bit', async () => {
    const entries: CraftedEntry[] = [
      { path: 'shared', type: 'Directory', mode: 0o3777 },
      { path: 'tool', body: '#!/bin/sh', mode: 0o6755 },
      { path: 'pipe', type: 'FIFO', mode: 0o4644 },
    ];
    const modes = async (destination: string) =>
      Promise.all(['shared', 'tool', 'pipe'].map(async (name) => (await stat(join(destination, name))).mode & 0o7777));
    const plain = await extractCrafted(entries);
    await plain.result;
    assert.deepEqual(await modes(plain.destination), [0o1777, 0o755, 0o644]);
    const dir = await makeTempDir('restore-special-bits');
    await extractArchive({ input: Readable.from([craftTar(entries)]), compression: 'none', destination: dir, keepSpecialBits: true });
    assert.deepEqual(await modes(dir), [0o3777, 0o6755, 0o4644]);
  });

  // New names take the group of a set-group-ID directory: root-owned entries must then be chowned too.
  it('gives root-owned entries their group below a set-group-ID destination', { skip: !isRoot && 'needs root' }, async () => {
    const dir = await makeTempDir('restore-setgid');
    const destination = join(dir, 'volume');
    await mkdir(destination);
    await chown(destination, 0, 4321);
    await chmod(destination, 0o2755);
    await extractArchive({
      input: Readable.from([craftTar([{ path: 'dir', type: 'Directory' }, { path: 'dir/file', body: 'x' }, { path: 'top', body: 'y' }])]),
      compression: 'none',
      destination,
    });
    for (const name of ['dir', 'dir/file', 'top']) assert.equal((await stat(join(destination, name))).gid, 0, name);
  });

  it('keeps symlinks with an absolute target, without following them', async () => {
    const { destination, result } = await extractCrafted([
      { path: 'current', type: 'SymbolicLink', linkpath: '/app/releases/3' },
      { path: 'sub/sibling', type: 'SymbolicLink', linkpath: '../current' },
    ]);
    await result;
    assert.deepEqual((await readdir(destination)).sort(), ['current', 'sub']);
  });
});
