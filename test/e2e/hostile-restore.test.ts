import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOST_ARCHIVE_DIR, plantArchiveBytes } from '../helpers/archives';
import { docker } from '../helpers/docker-cli';
import { backupvolCli } from '../helpers/host-cli';
import { hostVolumeDir, installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

/** One entry for Python's tarfile: written in this order, whatever a sane archive would hold. */
interface PyEntry {
  name: string;
  type: 'dir' | 'file' | 'symlink' | 'hardlink';
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkname?: string;
  body?: string;
}

/** Builds a gzip'd tar with Python's tarfile (not our writer, nor node-tar): an archive anyone could plant. */
const TARFILE_SCRIPT = `
import io, json, sys, tarfile
kinds = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|gz", format=tarfile.PAX_FORMAT) as archive:
    for entry in json.load(sys.stdin):
        info = tarfile.TarInfo(entry["name"])
        info.type = kinds[entry["type"]]
        info.mode = entry.get("mode", 0o755 if entry["type"] == "dir" else 0o644)
        info.uid = entry.get("uid", 0)
        info.gid = entry.get("gid", 0)
        info.mtime = entry.get("mtime", 1700000000)
        info.linkname = entry.get("linkname", "")
        body = entry.get("body", "").encode()
        info.size = len(body) if entry["type"] == "file" else 0
        archive.addfile(info, io.BytesIO(body) if info.size else None)
`;

function pythonTar(entries: PyEntry[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', TARFILE_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`python3 tarfile failed (${code}): ${err}`))));
    child.stdin.end(JSON.stringify(entries));
  });
}

/** Everything about a host path that a restore must never change. */
async function fingerprint(path: string): Promise<unknown> {
  const info = await lstat(path);
  const content = info.isDirectory() ? (await readdir(path)).sort() : await readFile(path, 'utf8');
  return { mode: info.mode, uid: info.uid, gid: info.gid, mtimeMs: info.mtimeMs, ino: info.ino, content };
}

describe('restoring hostile archives through the installed plugin', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();
  const volume = `${prefix}hostile-py`;
  // In the host's /var/lib, which the plugin sees at the same path: a root-only file it could reach.
  const canaryDir = `/var/lib/${prefix}canary`;
  const canaryFile = join(canaryDir, 'secret');
  let pristine: { dir: unknown; file: unknown };

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
    await rm(canaryDir, { recursive: true, force: true });
    await mkdir(canaryDir, { mode: 0o700 });
    await writeFile(canaryFile, 'root only\n', { mode: 0o600 });
    await utimes(canaryFile, 1_000_000_000, 1_000_000_000);
    await utimes(canaryDir, 1_000_000_000, 1_000_000_000);
    pristine = { dir: await fingerprint(canaryDir), file: await fingerprint(canaryFile) };
    await docker(['volume', 'create', '-d', PLUGIN, volume]);
    await mkdir(join(HOST_ARCHIVE_DIR, volume), { recursive: true });
  });

  after(async () => {
    await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
    await rm(join(HOST_ARCHIVE_DIR, volume), { recursive: true, force: true });
    await rm(canaryDir, { recursive: true, force: true });
  });

  const setuidDirectory = { type: 'dir', mode: 0o4777, uid: 1234, gid: 1234, mtime: 978307200 } as const;
  const cases: Array<{ what: string; entries: () => PyEntry[]; refused?: RegExp; corrupt?: boolean }> = [
    {
      what: 'a directory (4777, uid 1234) later replaced by a symlink to the host file',
      entries: () => [{ name: 'x', ...setuidDirectory }, { name: 'x', type: 'symlink', linkname: canaryFile }],
    },
    {
      what: 'the same, with a sha256 that does not match its manifest',
      entries: () => [{ name: 'x', ...setuidDirectory }, { name: 'x', type: 'symlink', linkname: canaryFile }],
      corrupt: true,
      refused: /corrupt/,
    },
    {
      what: 'a directory below one later replaced by a symlink to the host folder',
      entries: () => [{ name: 'd', type: 'dir' }, { name: 'd/secret', ...setuidDirectory }, { name: 'd', type: 'symlink', linkname: canaryDir }],
    },
    {
      what: 'a symlink to the host file, then a file of the same name',
      entries: () => [{ name: 'x', type: 'symlink', linkname: canaryFile }, { name: 'x', type: 'file', body: 'overwritten', mode: 0o4777 }],
    },
    {
      what: 'a symlink to the host folder, then a file below it',
      entries: () => [{ name: 'd', type: 'symlink', linkname: canaryDir }, { name: 'd/secret', type: 'file', body: 'overwritten' }],
      refused: /goes through the symlink/,
    },
    {
      what: 'a hard link to the host file by its absolute path',
      entries: () => [{ name: 'h', type: 'hardlink', linkname: canaryFile }],
      refused: /absolute path/,
    },
    {
      what: 'a hard link to the host file through ..',
      entries: () => [{ name: 'h', type: 'hardlink', linkname: `../../../../${prefix}canary/secret` }],
      refused: /climbs out of the volume/,
    },
  ];
  for (const [index, hostile] of cases.entries()) {
    it(`leaves the host file and folder as they were: ${hostile.what}`, async () => {
      const entries = hostile.entries();
      const bytes = await pythonTar(entries);
      const fileCount = entries.filter((entry) => entry.type === 'file').length;
      const archive = await plantArchiveBytes(volume, bytes, fileCount, `2030010${index + 1}T000000Z`);
      if (hostile.corrupt) {
        const manifestPath = join(HOST_ARCHIVE_DIR, volume, `${archive}.json`);
        const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as object;
        await writeFile(manifestPath, JSON.stringify({ ...manifest, sha256: '0'.repeat(64) }));
      }
      const outcome = await backupvolCli(['restore', volume, '--from', archive]);
      if (hostile.refused) {
        assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
        assert.match(outcome.stdout + outcome.stderr, hostile.refused);
      }
      assert.deepEqual(await fingerprint(canaryFile), pristine.file, 'the host file is byte-for-byte and metadata-identical');
      assert.deepEqual(await fingerprint(canaryDir), pristine.dir, 'the host folder is unchanged');
    });
  }

  it('restores a set-user-ID file without the bit (RESTORE_SPECIAL_BITS is false by default)', async () => {
    const bytes = await pythonTar([
      { name: 'tool', type: 'file', body: '#!/bin/sh\n', mode: 0o6755 },
      { name: 'shared', type: 'dir', mode: 0o3777 },
    ]);
    const archive = await plantArchiveBytes(volume, bytes, 1, '20300201T000000Z');
    const outcome = await backupvolCli(['restore', volume, '--from', archive]);
    assert.equal(outcome.code, 0, outcome.stdout + outcome.stderr);
    const data = join(hostVolumeDir(volume), 'data');
    assert.equal((await stat(join(data, 'tool'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(data, 'shared'))).mode & 0o7777, 0o1777);
  });
});
