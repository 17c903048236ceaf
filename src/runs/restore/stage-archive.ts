import { mkdir, statfs } from 'node:fs/promises';
import { compressionOfArchive } from '../../vocabulary/archive-name';
import { decryptionStage } from '../../crypto/archive-cipher';
import { NO_KEYS, type ArchiveKeys } from '../../settings/archive-keys';
import type { StoredArchive } from '../../targets/target';
import type { ArchiveSource } from '../../targets/target-reader';
import { assertArchiveEncryption, type VolumeEncryption } from './archive-encryption';
import { archiveReadBytes, extractArchive, type ExtractResult } from '../../archive';
import { removeTree } from '../../shared/remove-tree';

/** Left free on the volume's filesystem whatever the archive holds: the plugin's own state lives there. */
const RESERVE_BYTES = 16 * 1024 * 1024;

export interface StageRequest {
  /** The volume whose folder of the target holds the archive (the one it was made from). */
  sourceVolume: string;
  /** The point to restore. */
  archive: StoredArchive;
  /**
   * What the point needs, applied in order: the full archive, then each incremental up to the point
   * (resolve-archive.ts); just the archive when absent.
   */
  links?: readonly StoredArchive[];
  /** Emptied first; holds the checked tree on success, removed on failure. */
  stagingDir: string;
  onProgress?: (archiveBytes: number) => void;
  /** The encryption settings; without them only plain archives can be restored. */
  keys?: ArchiveKeys;
  /** The volumes restored from and into, with their backup-encryption: the archive must agree with them. */
  encryption: readonly VolumeEncryption[];
  /** See ExtractOptions.keepSpecialBits. */
  keepSpecialBits?: boolean;
}

/**
 * Extracts an archive (each link of its chain in turn) into a staging directory and checks each against
 * its manifest (sha256 of the bytes read, file count). Nothing of the volume is touched: on any failure
 * the staging directory is removed and the error names the archive that failed.
 */
export async function stageArchive(target: ArchiveSource, request: StageRequest): Promise<ExtractResult> {
  const { stagingDir } = request;
  const links = request.links ?? [request.archive];
  for (const archive of links) {
    try {
      assertArchiveEncryption(archive, request.encryption);
    } catch (error) {
      throw new Error(`cannot restore ${archive.name}: ${(error as Error).message}`);
    }
  }
  await removeTree(stagingDir);
  await mkdir(stagingDir, { mode: 0o755 });
  let done = 0;
  const totals = { sha256: '', bytes: 0, entryCount: 0, fileCount: 0, contentBytes: 0 };
  for (const archive of links) {
    try {
      const extracted = await stageLink(target, request, archive, (bytes) => request.onProgress?.(done + bytes));
      done += extracted.bytes;
      Object.assign(totals, { sha256: extracted.sha256, bytes: totals.bytes + extracted.bytes, entryCount: totals.entryCount + extracted.entryCount });
      Object.assign(totals, { fileCount: totals.fileCount + extracted.fileCount, contentBytes: totals.contentBytes + extracted.contentBytes });
    } catch (error) {
      await removeTree(stagingDir);
      throw new Error(`cannot restore ${archive.name}: ${(error as Error).message}`);
    }
  }
  return totals;
}

/** One archive extracted over what the links before it left in the staging directory. */
async function stageLink(target: ArchiveSource, request: StageRequest, archive: StoredArchive, onProgress: (bytes: number) => void): Promise<ExtractResult> {
  const { manifest } = archive;
  const room = await roomIn(request.stagingDir);
  if (manifest.bytes > room) {
    throw new Error(`archive ${archive.name} (${manifest.bytes} bytes) is larger than the free space of the volume's filesystem (${room} bytes)`);
  }
  // Before the archive is opened: a missing key is a clear error, not a half-read stream.
  const decrypt = decryptionStage(manifest.encryption, request.keys ?? NO_KEYS);
  const compression = compressionOfArchive(archive.name);
  const extracted = await extractArchive({
    input: await target.open(request.sourceVolume, archive.name, { readBytes: archiveReadBytes(compression) }),
    compression,
    decrypt,
    destination: request.stagingDir,
    roomBytes: room,
    keepSpecialBits: request.keepSpecialBits,
    onProgress,
  });
  if (extracted.sha256 !== manifest.sha256) {
    throw new Error(`archive ${archive.name} is corrupt: its sha256 is ${extracted.sha256}, its manifest says ${manifest.sha256}`);
  }
  if (extracted.fileCount !== manifest.fileCount) {
    throw new Error(`archive ${archive.name} holds ${extracted.fileCount} files, its manifest says ${manifest.fileCount}`);
  }
  return extracted;
}

async function roomIn(directory: string): Promise<number> {
  const stats = await statfs(directory);
  return Math.max(0, stats.bavail * stats.bsize - RESERVE_BYTES);
}
