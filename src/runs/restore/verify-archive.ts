import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { compressionOfArchive } from '../../vocabulary/archive-name';
import { DigestStream, listArchiveEntries } from '../../archive';
import { decryptionStage } from '../../crypto/archive-cipher';
import { NO_KEYS, type ArchiveKeys } from '../../settings/archive-keys';
import type { VerifyRecord } from '../../vocabulary/run-record';
import type { StoredArchive } from '../../targets/target';
import type { ArchiveSource } from '../../targets/target-reader';
import { assertArchiveEncryption, type VolumeEncryption } from './archive-encryption';

export interface VerifyOptions {
  onProgress?: (bytes: number) => void;
  /** The encryption settings; without them only plain archives can be read. */
  keys?: ArchiveKeys;
  /** The volume's backup-encryption: an archive that does not agree with it fails (archive-encryption.ts). */
  encryption: readonly VolumeEncryption[];
}

/**
 * Reads an archive end to end (decrypt, decompress, parse every tar entry and its content) and checks it against
 * its manifest: sha256 and size of the stored bytes, number of files. Never throws: a failure is the
 * record's result and error.
 */
export async function verifyArchive(
  target: ArchiveSource,
  volume: string,
  archive: StoredArchive,
  options: VerifyOptions,
): Promise<VerifyRecord> {
  const record: VerifyRecord = { time: new Date().toISOString(), archive: archive.name, result: 'failed' };
  const { manifest } = archive;
  const { onProgress } = options;
  try {
    assertArchiveEncryption(archive, options.encryption);
    const decrypt = decryptionStage(manifest.encryption, options.keys ?? NO_KEYS);
    const digest = new DigestStream(onProgress ? () => onProgress(digest.bytes) : undefined);
    const tee = new PassThrough();
    const [listing] = await Promise.all([
      listArchiveEntries(tee, compressionOfArchive(archive.name), undefined, decrypt),
      pipeline(await target.open(volume, archive.name), digest, tee),
    ]);
    record.fileCount = listing.fileCount;
    const problems: string[] = [];
    if (digest.sha256() !== manifest.sha256) problems.push(`its sha256 is ${digest.sha256()}, its manifest says ${manifest.sha256}`);
    if (digest.bytes !== manifest.bytes) problems.push(`it has ${digest.bytes} bytes, its manifest says ${manifest.bytes}`);
    if (listing.fileCount !== manifest.fileCount) problems.push(`it holds ${listing.fileCount} files, its manifest says ${manifest.fileCount}`);
    if (problems.length > 0) throw new Error(`archive ${archive.name} is corrupt: ${problems.join('; ')}`);
    record.result = 'ok';
  } catch (error) {
    const message = (error as Error).message;
    record.error = message.includes(archive.name) ? message : `archive ${archive.name} is unreadable: ${message}`;
  }
  return record;
}
