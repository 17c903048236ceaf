import { mkdir, rm, statfs } from 'node:fs/promises';
import { compressionOfArchive } from '../../vocabulary/archive-name';
import { decryptionStage } from '../../crypto/archive-cipher';
import { NO_KEYS, type ArchiveKeys } from '../../settings/archive-keys';
import type { StoredArchive } from '../../targets/target';
import type { ArchiveSource } from '../../targets/target-reader';
import { assertArchiveEncryption, type VolumeEncryption } from './archive-encryption';
import { archiveReadBytes, extractArchive, type ExtractResult } from '../../archive';

/** Left free on the volume's filesystem whatever the archive holds: the plugin's own state lives there. */
const RESERVE_BYTES = 16 * 1024 * 1024;

export interface StageRequest {
  /** The volume whose folder of the target holds the archive (the one it was made from). */
  sourceVolume: string;
  archive: StoredArchive;
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
 * Extracts an archive into a staging directory and checks it against its manifest (sha256 of the bytes
 * read, file count). Nothing of the volume is touched: on any failure the staging directory is removed
 * and the error says why.
 */
export async function stageArchive(target: ArchiveSource, request: StageRequest): Promise<ExtractResult> {
  const { archive, stagingDir } = request;
  const { manifest } = archive;
  try {
    assertArchiveEncryption(archive, request.encryption);
  } catch (error) {
    throw new Error(`cannot restore ${archive.name}: ${(error as Error).message}`);
  }
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { mode: 0o755 });
  try {
    const room = await roomIn(stagingDir);
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
      destination: stagingDir,
      roomBytes: room,
      keepSpecialBits: request.keepSpecialBits,
      onProgress: request.onProgress,
    });
    if (extracted.sha256 !== manifest.sha256) {
      throw new Error(`archive ${archive.name} is corrupt: its sha256 is ${extracted.sha256}, its manifest says ${manifest.sha256}`);
    }
    if (extracted.fileCount !== manifest.fileCount) {
      throw new Error(`archive ${archive.name} holds ${extracted.fileCount} files, its manifest says ${manifest.fileCount}`);
    }
    return extracted;
  } catch (error) {
    await rm(stagingDir, { recursive: true, force: true });
    throw new Error(`cannot restore ${archive.name}: ${(error as Error).message}`);
  }
}

async function roomIn(directory: string): Promise<number> {
  const stats = await statfs(directory);
  return Math.max(0, stats.bavail * stats.bsize - RESERVE_BYTES);
}
