import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { TarReader, type TarEntryHeader } from '../../src/archive/tar-reader';
import { craftTar } from '../helpers/craft-tar';
import { makeTempDir } from '../helpers/temp-dir';
import { archiveToFile, buildVolume } from './archive-fixtures';

/** What both parsers must agree on for each entry: its header and a hash of its content. */
interface Seen extends Omit<TarEntryHeader, 'mtime' | 'linkpath'> {
  /** Seconds. */
  mtime: number;
  linkpath: string;
  content: string;
}

function seen(entry: Omit<TarEntryHeader, 'linkpath'> & { linkpath?: string }, content: string): Seen {
  const { path, type, size, mode, uid, gid, mtime, linkpath } = entry;
  return { path, type, size, mode, uid, gid, mtime: Math.floor(mtime.getTime() / 1000), linkpath: linkpath ?? '', content };
}

/**
 * Feeds `tar` to a TarReader in pieces of pseudo-random sizes (1 byte to 3 blocks), all copied into ONE
 * buffer that is overwritten for the next piece: a reader that kept a view of a piece would see wrong bytes.
 */
function readWithTarReader(tar: Buffer, seed: number): Seen[] {
  const entries: Seen[] = [];
  let current: TarEntryHeader | undefined;
  let hash: Hash | undefined;
  const reader = new TarReader({
    entry: (entry) => {
      current = entry;
      hash = createHash('sha256');
    },
    content: (chunk) => hash?.update(chunk),
    entryEnd: () => entries.push(seen(current as TarEntryHeader, (hash as Hash).digest('hex'))),
  });
  const piece = Buffer.alloc(3 * 512);
  let state = seed;
  for (let offset = 0; offset < tar.length; ) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = Math.min(1 + (state % piece.length), tar.length - offset);
    tar.copy(piece, 0, offset, offset + size);
    reader.write(piece.subarray(0, size));
    piece.fill(0xee);
    offset += size;
  }
  reader.end();
  return entries;
}

/** The reference: node-tar's own Parser, strict. */
async function readWithNodeTar(tar: Buffer): Promise<Seen[]> {
  const entries: Seen[] = [];
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const hash = createHash('sha256');
      entry.on('data', (chunk: Buffer) => hash.update(chunk));
      entry.on('end', () =>
        entries.push(
          seen(
            { path: entry.path, type: entry.type, size: entry.size, mode: entry.mode ?? -1, uid: entry.uid ?? -1, gid: entry.gid ?? -1, mtime: entry.mtime ?? new Date(0), linkpath: entry.linkpath },
            hash.digest('hex'),
          ),
        ),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('end', resolve);
    parser.end(tar);
  });
  return entries;
}

async function assertSameAsNodeTar(tar: Buffer): Promise<Seen[]> {
  const expected = await readWithNodeTar(tar);
  assert.ok(expected.length > 0);
  for (const seed of [1, 7, 2024]) assert.deepEqual(readWithTarReader(tar, seed), expected);
  return expected;
}

/** A tree with names and links too long for ustar's fields, a large file and an empty one. */
async function longNamesTree(dir: string): Promise<string> {
  const root = join(dir, 'tree');
  const deep = join(root, 'd'.repeat(90), 'e'.repeat(90));
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, `${'f'.repeat(120)}.txt`), 'long name\n');
  await writeFile(join(root, 'big.bin'), Buffer.alloc(300_000, 7));
  await writeFile(join(root, 'empty'), '');
  await symlink(join('d'.repeat(90), 'e'.repeat(90), `${'f'.repeat(120)}.txt`), join(root, 'long-link'));
  return root;
}

function gnuTar(root: string, format: string, extra: string[] = []): Buffer {
  return execFileSync('tar', [`--format=${format}`, ...extra, '-C', root, '-cf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 });
}

describe('TarReader', () => {
  it("reads createArchive's own archives as node-tar does (pax long paths, hard links, symlinks)", async () => {
    const dir = await makeTempDir('tar-reader-own');
    const source = join(dir, 'volume');
    await mkdir(source);
    await buildVolume(source);
    await archiveToFile(source, join(dir, 'volume.tar'), 'none');
    const entries = await assertSameAsNodeTar(await readFile(join(dir, 'volume.tar')));
    assert.ok(entries.some((entry) => entry.path.length > 200));
    assert.ok(entries.some((entry) => entry.type === 'Link'));
  });

  for (const format of ['gnu', 'posix', 'ustar']) {
    it(`reads GNU tar's ${format} format as node-tar does`, async () => {
      const dir = await makeTempDir(`tar-reader-${format}`);
      const root = await longNamesTree(dir);
      // ustar cannot hold the 120-character file name: that format gets the tree without it.
      const extra = format === 'ustar' ? ['--exclude', 'f*.txt', '--exclude', 'long-link'] : [];
      const entries = await assertSameAsNodeTar(gnuTar(root, format, extra));
      if (format !== 'ustar') assert.ok(entries.some((entry) => entry.linkpath.length > 200));
    });
  }

  it('reads numbers in base-256 (ids too large for octal) as node-tar does', async () => {
    const dir = await makeTempDir('tar-reader-base256');
    const root = await longNamesTree(dir);
    const entries = await assertSameAsNodeTar(gnuTar(root, 'gnu', ['--owner=big:3000000', '--group=big:3000001']));
    assert.ok(entries.every((entry) => entry.uid === 3000000 && entry.gid === 3000001));
  });

  it('reads an old-style directory (a file entry whose name ends with a slash) as a directory', () => {
    const [entry] = readWithTarReader(craftTar([{ path: 'old-dir/', type: 'File' }]), 1);
    assert.equal(entry.type, 'Directory');
  });

  it('refuses a header whose checksum does not match', () => {
    const tar = craftTar([{ path: 'a', body: 'one' }, { path: 'b', body: 'two' }]);
    tar[1024 + 5] ^= 0x01; // the second header's name
    assert.throws(() => readWithTarReader(tar, 1), (error) => error instanceof Error && /^the archive has a damaged header at byte 1024 \(checksum mismatch\)$/.test(error.message));
  });

  it('refuses a header with a number that is not octal', () => {
    const tar = craftTar([{ path: 'a', body: 'one' }]);
    tar.write('9', 124, 'latin1'); // size
    // The checksum is made right again: only the number is wrong.
    tar.fill(0x20, 148, 156);
    let sum = 0;
    for (let index = 0; index < 512; index++) sum += tar[index];
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    assert.throws(() => readWithTarReader(tar, 1), /invalid size at byte 0/);
  });

  it('refuses a stream that ends inside an entry, inside a header or without its end-of-archive block', () => {
    const tar = craftTar([{ path: 'a', body: 'x'.repeat(2000) }]);
    assert.throws(() => readWithTarReader(tar.subarray(0, 1500), 1), /truncated: it ends inside an entry/);
    assert.throws(() => readWithTarReader(tar.subarray(0, 300), 1), /truncated: it ends inside an entry/);
    assert.throws(() => readWithTarReader(tar.subarray(0, 512 + 2048), 1), /truncated: it ends without its end-of-archive block/);
  });

  it('refuses data after the end-of-archive block', () => {
    const tar = craftTar([{ path: 'a', body: 'one' }]);
    const smuggled = craftTar([{ path: 'hidden', body: 'two' }]);
    assert.throws(() => readWithTarReader(Buffer.concat([tar, smuggled]), 1), /data after its end-of-archive block/);
    assert.equal(readWithTarReader(Buffer.concat([tar, Buffer.alloc(10240)]), 1).length, 1, 'zero padding after the end is fine');
  });

  it('refuses an extended header larger than 1 MiB without reading it', () => {
    const header = Buffer.from(craftTar([{ path: 'PaxHeader/a', type: 'ExtendedHeader' }]).subarray(0, 512));
    header.write('00010000001', 124, 'latin1'); // 2 MiB + 1
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (let index = 0; index < 512; index++) sum += header[index];
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    assert.throws(() => readWithTarReader(header, 1), /extended header of 2097153 bytes/);
  });
});
