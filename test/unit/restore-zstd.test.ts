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
import type { ArchiveManifest } from '../../src/vocabulary/archive-manifest';
import { extractArchive, type ExtractOptions } from '../../src/archive/extract-archive';
import { stageArchive } from '../../src/runs/restore/stage-archive';
import type { Target } from '../../src/targets/target';
import { craftTar, type CraftedEntry } from '../helpers/craft-tar';
import { makeTempDir } from '../helpers/temp-dir';
import { assertSameTree } from '../helpers/tree-compare';
import { archiveToFile, buildVolume } from './archive-fixtures';

// zstd restores: zstd writes the tar stream into a pipe the extraction worker reads itself
// (src/archive/zstd-decompressor.ts). What must hold whatever happens: the sha256 is that of the stored
// bytes, and a failure leaves no zstd process, pipe, descriptor or worker thread behind.

// The machine's temporary folder is shared with other work that restores zstd archives: this file's
// named pipes (and fixtures) go to a folder of its own, so that counting them counts only ours.
const privateTmp = mkdtempSync(join(tmpdir(), 'backupvol-restore-zstd-'));
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
  const pipes = (await readdir(privateTmp)).filter((name) => name.startsWith('backupvol-zstd-'));
  return { fds: fds.filter((target) => target !== 'closed').sort(), children, threads, pipes };
}

/** Runs extract (which must reject with `message`) and checks that it left nothing behind. */
async function assertRejectsCleanly(extract: () => Promise<unknown>, message: RegExp): Promise<void> {
  // A first restore starts what stays (libuv's threadpool, the worker's code in the cache).
  const before = await leftovers();
  await assert.rejects(extract(), message);
  assert.deepEqual(await leftovers(), before);
}

async function zstdArchiveOf(label: string): Promise<{ dir: string; source: string; archive: string; sha256: string; fileCount: number }> {
  const dir = await makeTempDir(`restore-zstd-${label}`);
  const source = join(dir, 'source');
  await mkdir(source);
  await buildVolume(source);
  const archive = join(dir, 'archive.tar.zst');
  const created = await archiveToFile(source, archive, 'zstd');
  return { dir, source, archive, sha256: created.sha256, fileCount: created.fileCount };
}

async function freshDir(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path);
  return path;
}

function extractBytes(bytes: Buffer, destination: string, options: Partial<ExtractOptions> = {}): Promise<unknown> {
  return extractArchive({ input: Readable.from([bytes]), compression: 'zstd', destination, ...options });
}

function zstdOf(tar: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 64 * 1024 * 1024 });
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
 * Runs work and returns what every zstd it started got as its stdin: a descriptor (a number) when zstd read
 * the archive's file itself, 'pipe' when the archive's bytes were written into it.
 */
async function zstdStdins(work: () => Promise<unknown>): Promise<unknown[]> {
  // zstd-process.ts reaches spawn through the module object at call time: the mock is what it calls.
  const spawn = mock.method(childProcess, 'spawn');
  try {
    await work();
  } finally {
    spawn.mock.restore();
  }
  const calls = spawn.mock.calls.map((call) => call.arguments as unknown[]);
  return calls.filter(([command]) => command === 'zstd').map(([, , options]) => (options as { stdio: unknown[] }).stdio[0]);
}

describe('extractArchive, zstd', () => {
  it('restores what createArchive archived and reports the sha256 of the stored bytes; twice, nothing left behind', async () => {
    const { dir, source, archive, sha256, fileCount } = await zstdArchiveOf('round-trip');
    for (const name of ['first', 'second']) {
      const before = await leftovers();
      const restored = await freshDir(dir, name);
      const result = await extractArchive({ input: createReadStream(archive), compression: 'zstd', destination: restored, keepSpecialBits: true });
      assert.equal(result.sha256, sha256);
      assert.equal(result.fileCount, fileCount);
      await assertSameTree(source, restored, { mtimeToleranceNs: 1_000_000_000n });
      if (name === 'second') assert.deepEqual(await leftovers(), before);
    }
  });

  it('has zstd read a local archive file itself, even once removed; the sha256 is still of the file\'s bytes', async () => {
    const { dir, source, archive, fileCount } = await zstdArchiveOf('local-file');
    const bytes = await readFile(archive);
    const before = await leftovers();
    const restored = await freshDir(dir, 'restored');
    let result: { sha256: string; bytes: number; fileCount: number } | undefined;
    const stdins = await zstdStdins(async () => {
      const input = await openedFile(archive);
      await rm(archive); // zstd opens the file through the stream's descriptor, not by its name
      result = await extractArchive({ input, compression: 'zstd', destination: restored, keepSpecialBits: true });
    });
    assert.equal(stdins.length, 1);
    assert.equal(typeof stdins[0], 'number', 'zstd read the file, not a pipe from this process');
    assert.equal(result?.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(result?.bytes, bytes.length);
    assert.equal(result?.fileCount, fileCount);
    await assertSameTree(source, restored, { mtimeToleranceNs: 1_000_000_000n });
    assert.deepEqual(await leftovers(), before);
  });

  it('still writes into zstd\'s stdin what is not an opened local file', async () => {
    const { dir, archive } = await zstdArchiveOf('not-a-file');
    const bytes = await readFile(archive);
    const fromMemory = await freshDir(dir, 'from-memory');
    assert.deepEqual(await zstdStdins(() => extractBytes(bytes, fromMemory)), ['pipe']);
    // Not opened yet when extractArchive sees it: its descriptor is not there to hand over.
    const restored = await freshDir(dir, 'restored');
    const pending = await zstdStdins(() => extractArchive({ input: createReadStream(archive), compression: 'zstd', destination: restored }));
    assert.deepEqual(pending, ['pipe']);
  });

  it('reads the pipe in odd sizes: 512-byte reads, a file of 3 MiB (the pipe fills)', async () => {
    const dir = await makeTempDir('restore-zstd-reads');
    const big = Array.from({ length: 3 * 1024 * 1024 }, (_, index) => String.fromCharCode(97 + ((index * 7919) % 26))).join('');
    const tar = craftTar([{ path: 'a', body: 'first' }, { path: 'big', body: big }, { path: 'z', body: 'last' }]);
    const bytes = zstdOf(tar);
    const restored = await freshDir(dir, 'restored');
    const result = (await extractBytes(bytes, restored, { tuning: { batchBytes: 512, poolSize: 1 } })) as { sha256: string; bytes: number };
    assert.equal(result.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(result.bytes, bytes.length);
    assert.equal(await readFile(join(restored, 'big'), 'utf8'), big);
    assert.equal(await readFile(join(restored, 'z'), 'utf8'), 'last');
  });

  it('reports a different sha256 when bytes zstd skips were added, and stageArchive refuses the archive', async () => {
    const { dir, archive, sha256, fileCount } = await zstdArchiveOf('sha256');
    const bytes = Buffer.concat([await readFile(archive), skippableFrame(Buffer.from('not in the manifest'))]);
    const result = (await extractBytes(bytes, await freshDir(dir, 'restored'))) as { sha256: string };
    assert.notEqual(result.sha256, sha256);
    assert.equal(result.sha256, createHash('sha256').update(bytes).digest('hex'));

    const name = 'v-20260101T000000Z.tar.zst';
    const manifest = { archive: name, bytes: bytes.length, fileCount, sha256, encryption: 'none' } as ArchiveManifest;
    const target = { open: async () => Readable.from([bytes]) } as unknown as Target;
    const stagingDir = join(dir, 'staging');
    await assert.rejects(stageArchive(target, { sourceVolume: 'v', archive: { name, manifest }, stagingDir, encryption: [] }), /is corrupt: its sha256 is/);
    await assert.rejects(readdir(stagingDir), 'the staging tree is gone');
  });

  it('rejects corrupt zstd data with zstd\'s reason and leaves nothing behind', async () => {
    const { dir, archive } = await zstdArchiveOf('corrupt');
    const bytes = await readFile(archive);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    const truncated = bytes.subarray(0, bytes.length - 100);
    const notZstd = Buffer.from('this is not zstd at all'.repeat(100));
    // zstd's own exit status, not what it caused (EPIPE on its stdin, a truncated tar stream in the worker).
    for (const [name, input] of Object.entries({ flipped, truncated, notZstd })) {
      const destination = await freshDir(dir, name);
      await assertRejectsCleanly(() => extractBytes(input, destination), /^Error: zstd exited with code 1: /);
    }
  });

  it('rejects a corrupt local file, or one that is not zstd, with zstd\'s reason and leaves nothing behind', async () => {
    const { dir, archive } = await zstdArchiveOf('corrupt-file');
    const flipped = await readFile(archive);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    const notZstd = Buffer.from('this is not zstd at all'.repeat(100));
    for (const [name, bytes] of Object.entries({ flipped, notZstd })) {
      const path = join(dir, `${name}.tar.zst`);
      await writeFile(path, bytes);
      const destination = await freshDir(dir, name);
      const extract = async () => extractArchive({ input: await openedFile(path), compression: 'zstd', destination });
      const stdins = await zstdStdins(() => assertRejectsCleanly(extract, /^Error: zstd exited with code 1: /));
      assert.equal(typeof stdins[0], 'number', `${name}: zstd read the file`);
    }
  });

  it('rejects with the reason of a stage before zstd (a decrypt that refuses the archive), not zstd\'s end of input', async () => {
    const { dir, archive } = await zstdArchiveOf('decrypt-fails');
    const bytes = await readFile(archive);
    // zstd sees its input end as soon as the pipeline tears down, and often exits (code 1, "unexpected
    // end of file") before the teardown's kill reaches it: a race, so it runs many times.
    for (let round = 0; round < 20; round += 1) {
      const refusing = new Transform({
        transform(_chunk, _encoding, callback) {
          callback(new Error('no identity matched'));
        },
      });
      const destination = await freshDir(dir, `round-${round}`);
      await assertRejectsCleanly(() => extractBytes(bytes, destination, { decrypt: refusing }), /^Error: no identity matched$/);
    }
  });

  it('refuses an unsafe entry while zstd still has megabytes to write, and leaves nothing behind', async () => {
    const dir = await makeTempDir('restore-zstd-hostile');
    const outside = await freshDir(dir, 'outside');
    const entries: CraftedEntry[] = [
      { path: 'ok', body: 'x'.repeat(100_000) },
      { path: '../outside/escaped.txt', body: 'gotcha' },
      { path: 'after', body: 'y'.repeat(8 * 1024 * 1024) },
    ];
    const bytes = zstdOf(craftTar(entries));
    const destination = await freshDir(dir, 'volume');
    await assertRejectsCleanly(() => extractBytes(bytes, destination), /climbs out of the volume/);
    assert.deepEqual(await readdir(outside), []);
  });

  it('refuses content beyond the room it was given, and leaves nothing behind', async () => {
    const dir = await makeTempDir('restore-zstd-room');
    const bytes = zstdOf(craftTar([{ path: 'big', body: 'y'.repeat(4 * 1024 * 1024) }]));
    const destination = await freshDir(dir, 'volume');
    await assertRejectsCleanly(() => extractBytes(bytes, destination, { roomBytes: 1024 * 1024 }), /does not fit in the free space/);
  });

  it('stops when aborted, with the caller\'s reason, and leaves nothing behind', async () => {
    const dir = await makeTempDir('restore-zstd-abort');
    const bytes = zstdOf(craftTar([{ path: 'big', body: 'y'.repeat(8 * 1024 * 1024) }]));
    // The archive arrives slowly: the abort comes while zstd and the worker wait for more.
    const input = new Readable({ read() {} });
    input.push(bytes.subarray(0, 1000));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped by the test')), 300);
    const destination = await freshDir(dir, 'volume');
    await assertRejectsCleanly(
      () => extractArchive({ input, compression: 'zstd', destination, signal: controller.signal }),
      /stopped by the test/,
    );
  });

  it('says so when zstd is not installed, and leaves nothing behind', async () => {
    const dir = await makeTempDir('restore-zstd-missing');
    const bin = await freshDir(dir, 'bin');
    const mkfifo = execFileSync('sh', ['-c', 'command -v mkfifo'], { encoding: 'utf8' }).trim();
    await symlink(mkfifo, join(bin, 'mkfifo'));
    const bytes = zstdOf(craftTar([{ path: 'file', body: 'x' }]));
    const destination = await freshDir(dir, 'volume');
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      await assertRejectsCleanly(() => extractBytes(bytes, destination), /zstd is not installed/);
    } finally {
      process.env.PATH = path;
    }
  });
});
