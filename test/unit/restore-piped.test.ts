import assert from 'node:assert/strict';
import childProcess, { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, type ReadStream } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { after, describe, it, mock } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ArchiveManifest } from '../../src/vocabulary/archive-manifest';
import type { ExternalCodec } from '../../src/archive/codec-process';
import { extractArchive, type ExtractOptions } from '../../src/archive/extract-archive';
import { stageArchive } from '../../src/runs/restore/stage-archive';
import type { Target } from '../../src/targets/target';
import { craftTar, type CraftedEntry } from '../helpers/craft-tar';
import { makeTempDir } from '../helpers/temp-dir';
import { assertSameTree } from '../helpers/tree-compare';
import { archiveToFile, buildVolume } from './archive-fixtures';

// zstd and gzip restores: zstd or unpigz writes the tar stream into a pipe the extraction worker reads
// itself (src/archive/piped-decompressor.ts). What must hold whatever happens: the sha256 is that of the
// stored bytes, and a failure leaves no decompressor process, pipe, descriptor or worker thread behind.

// The machine's temporary folder is shared with other work that restores archives: this file's
// named pipes (and fixtures) go to a folder of its own, so that counting them counts only ours.
const privateTmp = mkdtempSync(join(tmpdir(), 'backupvol-restore-piped-'));
process.env.TMPDIR = privateTmp;
after(() => rmSync(privateTmp, { recursive: true, force: true }));

/** What a restore could leave behind: open descriptors, child processes, threads, named pipes' folders. */
async function leftovers(): Promise<{ fds: string[]; children: number[]; threads: number; pipes: string[] }> {
  const fds: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) fds.push(await readlink(`/proc/self/fd/${fd}`).catch(() => 'closed'));
  const children: number[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) children.push(Number(pid));
  }
  const threads = (await readdir('/proc/self/task')).length;
  const pipes = (await readdir(privateTmp)).filter((name) => name.startsWith('backupvol-pipe-'));
  return { fds: fds.filter((target) => target !== 'closed').sort(), children, threads, pipes };
}

/** Runs extract (which must reject with `message`) and checks that it left nothing behind. */
async function assertRejectsCleanly(extract: () => Promise<unknown>, message: RegExp): Promise<void> {
  // A first restore starts what stays (libuv's threadpool, the worker's code in the cache).
  const before = await leftovers();
  await assert.rejects(extract(), message);
  assert.deepEqual(await leftovers(), before);
}

interface Codec {
  name: ExternalCodec;
  /** The program that decompresses it (src/archive/codec-process.ts). */
  program: string;
  extension: string;
  compress(tar: Buffer): Buffer;
  /** Bytes the program skips after an archive: the content is unchanged, the stored bytes are not. */
  skipped(): Buffer;
}

const CODECS: Codec[] = [
  {
    name: 'zstd',
    program: 'zstd',
    extension: '.tar.zst',
    compress: (tar) => execFileSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 64 * 1024 * 1024 }),
    skipped: () => skippableFrame(Buffer.from('not in the manifest')),
  },
  {
    name: 'gzip',
    program: 'unpigz',
    extension: '.tar.gz',
    compress: (tar) => gzipSync(tar),
    // An empty member: gzip readers read concatenated members as one stream.
    skipped: () => gzipSync(Buffer.alloc(0)),
  },
];

async function archiveOf(codec: Codec, label: string): Promise<{ dir: string; source: string; archive: string; sha256: string; fileCount: number }> {
  const dir = await makeTempDir(`restore-${codec.name}-${label}`);
  const source = join(dir, 'source');
  await mkdir(source);
  await buildVolume(source);
  const archive = join(dir, `archive${codec.extension}`);
  const created = await archiveToFile(source, archive, codec.name);
  return { dir, source, archive, sha256: created.sha256, fileCount: created.fileCount };
}

async function freshDir(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path);
  return path;
}

function extractBytes(codec: Codec, bytes: Buffer, destination: string, options: Partial<ExtractOptions> = {}): Promise<unknown> {
  return extractArchive({ input: Readable.from([bytes]), compression: codec.name, destination, ...options });
}

/** A skippable frame (zstd format, section 3.1.2): zstd skips it, so the content is unchanged. */
function skippableFrame(payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a50, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** An archive file opened as LocalTarget.open opens it (a ReadStream, open when extractArchive sees it). */
async function openedFile(path: string): Promise<ReadStream> {
  const stream = createReadStream(path);
  await once(stream, 'open');
  return stream;
}

/**
 * Runs work and returns what every `program` it started got as its stdin: a descriptor (a number) when it
 * read the archive's file itself, 'pipe' when the archive's bytes were written into it.
 */
async function programStdins(program: string, work: () => Promise<unknown>): Promise<unknown[]> {
  // codec-process.ts reaches spawn through the module object at call time: the mock is what it calls.
  const spawn = mock.method(childProcess, 'spawn');
  try {
    await work();
  } finally {
    spawn.mock.restore();
  }
  const calls = spawn.mock.calls.map((call) => call.arguments as unknown[]);
  return calls.filter(([command]) => command === program).map(([, , options]) => (options as { stdio: unknown[] }).stdio[0]);
}

for (const codec of CODECS) describe(`extractArchive, ${codec.name}`, () => {
  const { program } = codec;
  const failed = new RegExp(`^Error: ${program} exited with code 1: `);
  it('restores what createArchive archived and reports the sha256 of the stored bytes; twice, nothing left behind', async () => {
    const { dir, source, archive, sha256, fileCount } = await archiveOf(codec, 'round-trip');
    for (const name of ['first', 'second']) {
      const before = await leftovers();
      const restored = await freshDir(dir, name);
      const result = await extractArchive({ input: createReadStream(archive), compression: codec.name, destination: restored, keepSpecialBits: true });
      assert.equal(result.sha256, sha256);
      assert.equal(result.fileCount, fileCount);
      await assertSameTree(source, restored, { mtimeToleranceNs: 1_000_000_000n });
      if (name === 'second') assert.deepEqual(await leftovers(), before);
    }
  });

  it(`has ${program} read a local archive file itself, even once removed; the sha256 is still of the file's bytes`, async () => {
    const { dir, source, archive, fileCount } = await archiveOf(codec, 'local-file');
    const bytes = await readFile(archive);
    const before = await leftovers();
    const restored = await freshDir(dir, 'restored');
    let result: { sha256: string; bytes: number; fileCount: number } | undefined;
    const stdins = await programStdins(program, async () => {
      const input = await openedFile(archive);
      await rm(archive); // the program opens the file through the stream's descriptor, not by its name
      result = await extractArchive({ input, compression: codec.name, destination: restored, keepSpecialBits: true });
    });
    assert.equal(stdins.length, 1);
    assert.equal(typeof stdins[0], 'number', `${program} read the file, not a pipe from this process`);
    assert.equal(result?.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(result?.bytes, bytes.length);
    assert.equal(result?.fileCount, fileCount);
    await assertSameTree(source, restored, { mtimeToleranceNs: 1_000_000_000n });
    assert.deepEqual(await leftovers(), before);
  });

  it(`still writes into ${program}'s stdin what is not an opened local file`, async () => {
    const { dir, archive } = await archiveOf(codec, 'not-a-file');
    const bytes = await readFile(archive);
    const fromMemory = await freshDir(dir, 'from-memory');
    assert.deepEqual(await programStdins(program, () => extractBytes(codec, bytes, fromMemory)), ['pipe']);
    // Not opened yet when extractArchive sees it: its descriptor is not there to hand over.
    const restored = await freshDir(dir, 'restored');
    const pending = await programStdins(program, () => extractArchive({ input: createReadStream(archive), compression: codec.name, destination: restored }));
    assert.deepEqual(pending, ['pipe']);
  });

  it('reads the pipe in odd sizes: 512-byte reads, a file of 3 MiB (the pipe fills)', async () => {
    const dir = await makeTempDir(`restore-${codec.name}-reads`);
    const big = Array.from({ length: 3 * 1024 * 1024 }, (_, index) => String.fromCharCode(97 + ((index * 7919) % 26))).join('');
    const tar = craftTar([{ path: 'a', body: 'first' }, { path: 'big', body: big }, { path: 'z', body: 'last' }]);
    const bytes = codec.compress(tar);
    const restored = await freshDir(dir, 'restored');
    const result = (await extractBytes(codec, bytes, restored, { tuning: { batchBytes: 512, poolSize: 1 } })) as { sha256: string; bytes: number };
    assert.equal(result.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(result.bytes, bytes.length);
    assert.equal(await readFile(join(restored, 'big'), 'utf8'), big);
    assert.equal(await readFile(join(restored, 'z'), 'utf8'), 'last');
  });

  it(`reports a different sha256 when bytes ${program} skips were added, and stageArchive refuses the archive`, async () => {
    const { dir, archive, sha256, fileCount } = await archiveOf(codec, 'sha256');
    const bytes = Buffer.concat([await readFile(archive), codec.skipped()]);
    const result = (await extractBytes(codec, bytes, await freshDir(dir, 'restored'))) as { sha256: string };
    assert.notEqual(result.sha256, sha256);
    assert.equal(result.sha256, createHash('sha256').update(bytes).digest('hex'));

    const name = `v-20260101T000000Z${codec.extension}`;
    const manifest = { archive: name, bytes: bytes.length, fileCount, sha256, encryption: 'none' } as ArchiveManifest;
    const target = { open: async () => Readable.from([bytes]) } as unknown as Target;
    const stagingDir = join(dir, 'staging');
    await assert.rejects(stageArchive(target, { sourceVolume: 'v', archive: { name, manifest }, stagingDir, encryption: [] }), /is corrupt: its sha256 is/);
    await assert.rejects(readdir(stagingDir), 'the staging tree is gone');
  });

  it(`rejects corrupt ${codec.name} data with ${program}'s reason and leaves nothing behind`, async () => {
    const { dir, archive } = await archiveOf(codec, 'corrupt');
    const bytes = await readFile(archive);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    const truncated = bytes.subarray(0, bytes.length - 100);
    const notCompressed = Buffer.from(`this is not ${codec.name} at all`.repeat(100));
    // The program's own exit status, not what it caused (EPIPE on its stdin, a truncated tar stream in the worker).
    for (const [name, input] of Object.entries({ flipped, truncated, notCompressed })) {
      const destination = await freshDir(dir, name);
      await assertRejectsCleanly(() => extractBytes(codec, input, destination), failed);
    }
  });

  it(`rejects a corrupt local file, or one that is not ${codec.name}, with ${program}'s reason and leaves nothing behind`, async () => {
    const { dir, archive } = await archiveOf(codec, 'corrupt-file');
    const flipped = await readFile(archive);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    const notCompressed = Buffer.from(`this is not ${codec.name} at all`.repeat(100));
    for (const [name, bytes] of Object.entries({ flipped, notCompressed })) {
      const path = join(dir, `${name}.tar.zst`);
      await writeFile(path, bytes);
      const destination = await freshDir(dir, name);
      const extract = async () => extractArchive({ input: await openedFile(path), compression: codec.name, destination });
      const stdins = await programStdins(program, () => assertRejectsCleanly(extract, failed));
      assert.equal(typeof stdins[0], 'number', `${name}: ${program} read the file`);
    }
  });

  it(`rejects with the reason of a stage before ${program} (a decrypt that refuses the archive), not its end of input`, async () => {
    const { dir, archive } = await archiveOf(codec, 'decrypt-fails');
    const bytes = await readFile(archive);
    // The program sees its input end as soon as the pipeline tears down, and often exits (code 1, "unexpected
    // end of file") before the teardown's kill reaches it: a race, so it runs many times.
    for (let round = 0; round < 20; round += 1) {
      const refusing = new Transform({
        transform(_chunk, _encoding, callback) {
          callback(new Error('no identity matched'));
        },
      });
      const destination = await freshDir(dir, `round-${round}`);
      await assertRejectsCleanly(() => extractBytes(codec, bytes, destination, { decrypt: refusing }), /^Error: no identity matched$/);
    }
  });

  it(`refuses an unsafe entry while ${program} still has megabytes to write, and leaves nothing behind`, async () => {
    const dir = await makeTempDir(`restore-${codec.name}-hostile`);
    const outside = await freshDir(dir, 'outside');
    const entries: CraftedEntry[] = [
      { path: 'ok', body: 'x'.repeat(100_000) },
      { path: '../outside/escaped.txt', body: 'gotcha' },
      { path: 'after', body: 'y'.repeat(8 * 1024 * 1024) },
    ];
    const bytes = codec.compress(craftTar(entries));
    const destination = await freshDir(dir, 'volume');
    await assertRejectsCleanly(() => extractBytes(codec, bytes, destination), /climbs out of the volume/);
    assert.deepEqual(await readdir(outside), []);
  });

  it('refuses content beyond the room it was given, and leaves nothing behind', async () => {
    const dir = await makeTempDir(`restore-${codec.name}-room`);
    const bytes = codec.compress(craftTar([{ path: 'big', body: 'y'.repeat(4 * 1024 * 1024) }]));
    const destination = await freshDir(dir, 'volume');
    await assertRejectsCleanly(() => extractBytes(codec, bytes, destination, { roomBytes: 1024 * 1024 }), /does not fit in the free space/);
  });

  it('stops when aborted, with the caller\'s reason, and leaves nothing behind', async () => {
    const dir = await makeTempDir(`restore-${codec.name}-abort`);
    const bytes = codec.compress(craftTar([{ path: 'big', body: 'y'.repeat(8 * 1024 * 1024) }]));
    // The archive arrives slowly: the abort comes while the program and the worker wait for more.
    const input = new Readable({ read() {} });
    input.push(bytes.subarray(0, 1000));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped by the test')), 300);
    const destination = await freshDir(dir, 'volume');
    await assertRejectsCleanly(
      () => extractArchive({ input, compression: codec.name, destination, signal: controller.signal }),
      /stopped by the test/,
    );
  });

  it(`says so when ${program} is not installed, and leaves nothing behind`, async () => {
    const dir = await makeTempDir(`restore-${codec.name}-missing`);
    const bin = await freshDir(dir, 'bin');
    const mkfifo = execFileSync('sh', ['-c', 'command -v mkfifo'], { encoding: 'utf8' }).trim();
    await symlink(mkfifo, join(bin, 'mkfifo'));
    const bytes = codec.compress(craftTar([{ path: 'file', body: 'x' }]));
    const destination = await freshDir(dir, 'volume');
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      await assertRejectsCleanly(() => extractBytes(codec, bytes, destination), new RegExp(`${program} is not installed`));
    } finally {
      process.env.PATH = path;
    }
  });
});
