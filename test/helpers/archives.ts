import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './docker-cli';
import { eventually } from './eventually';
import { HOST_DATA_DIR } from './plugin';

/** The local target on the host (default `archive` mount). */
export const HOST_ARCHIVE_DIR = join(HOST_DATA_DIR, 'archive');

export interface ManifestOnDisk {
  volume: string;
  archive: string;
  created: string;
  bytes: number;
  fileCount: number;
  sha256: string;
  quiesced: boolean;
  snapshotMode: string;
  durations: { totalMs: number; downtimeMs: number };
  stopped: { containers: string[] };
}

/** Complete archives (those with a manifest) of VOLUME in the local target, oldest first. */
export async function completeArchives(volume: string, root = HOST_ARCHIVE_DIR): Promise<string[]> {
  const names = await readdir(join(root, volume)).catch(() => [] as string[]);
  const present = new Set(names);
  return names.filter((name) => /\d{8}T\d{6}Z\.tar(\.gz|\.zst)?$/.test(name) && present.has(`${name}.json`)).sort();
}

export async function allArchiveFiles(volume: string, root = HOST_ARCHIVE_DIR): Promise<string[]> {
  return (await readdir(join(root, volume)).catch(() => [] as string[])).sort();
}

export async function readManifest(volume: string, archive: string, root = HOST_ARCHIVE_DIR): Promise<ManifestOnDisk> {
  return JSON.parse(await readFile(join(root, volume, `${archive}.json`), 'utf8')) as ManifestOnDisk;
}

export async function waitForArchives(volume: string, count: number, timeoutMs = 90_000): Promise<string[]> {
  let archives: string[] = [];
  await eventually(`${count} complete archive(s) of ${volume}`, async () => {
    archives = await completeArchives(volume);
    return archives.length >= count;
  }, timeoutMs);
  return archives;
}

/** The first complete archive of VOLUME whose run started at or after SINCE. */
export async function waitForArchiveAfter(volume: string, since: Date, timeoutMs = 90_000): Promise<string> {
  let found: string | undefined;
  await eventually(`a complete archive of ${volume} started after ${since.toISOString()}`, async () => {
    for (const archive of await completeArchives(volume)) {
      if (Date.parse((await readManifest(volume, archive)).created) >= since.getTime()) {
        found = archive;
        return true;
      }
    }
    return false;
  }, timeoutMs);
  return found as string;
}

/**
 * Puts gzip'd tar bytes and a manifest that matches them into a volume's local target folder, as someone
 * who can write to the target could; returns the archive's name.
 */
export async function plantArchiveBytes(volume: string, bytes: Buffer, fileCount: number, stamp = '20300101T000000Z'): Promise<string> {
  const archive = `${volume}-${stamp}.tar.gz`;
  const folder = join(HOST_ARCHIVE_DIR, volume);
  await writeFile(join(folder, archive), bytes);
  const manifest = {
    volume,
    archive,
    options: {},
    created: '2030-01-01T00:00:00.000Z',
    bytes: bytes.length,
    fileCount,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    compression: 'gzip',
    encryption: 'none',
    snapshotMode: 'direct',
    quiesced: false,
    durations: { totalMs: 1, downtimeMs: 0 },
    stopped: { containers: [] },
  };
  await writeFile(join(folder, `${archive}.json`), JSON.stringify(manifest));
  return archive;
}

/** Extracts an archive with the standard tools only (tar, zstd), as a user restoring by hand would. */
export async function extractWithStandardTools(volume: string, archive: string): Promise<string> {
  const into = await mkdtemp(join(tmpdir(), 'bvt-extract-'));
  const path = join(HOST_ARCHIVE_DIR, volume, archive);
  if (archive.endsWith('.tar.zst')) {
    await run('sh', ['-c', 'zstd -d -c "$1" | tar -x -C "$2"', 'sh', path, into]);
  } else if (archive.endsWith('.tar.gz')) {
    await run('tar', ['-xzf', path, '-C', into]);
  } else {
    await run('tar', ['-xf', path, '-C', into]);
  }
  return into;
}
