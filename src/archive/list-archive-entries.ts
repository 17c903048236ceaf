import { Writable, type Duplex, type Readable } from 'node:stream';
import type { Compression } from '../vocabulary/volume-options';
import { decompressInto } from './decompress';
import { createGcPacer } from './gc-pacer';
import { settleAll } from './settle-all';
import { countsAsFile } from './tar-entry';
import { TarReader, type TarEntryHeader } from './tar-reader';


/** One entry of an archive: its header as the archive gives it (TarReader's type names). */
export type ArchiveEntryInfo = TarEntryHeader;

export interface ArchiveListing {
  entryCount: number;
  /** Same definition as createArchive's fileCount (countsAsFile), so verify can compare the two. */
  fileCount: number;
  /** Sum of the entries' content sizes. */
  contentBytes: number;
}

/**
 * Decompresses and parses a whole archive, reading every entry's content to the end: a truncated or
 * corrupt archive (bad gzip/zstd data, bad header checksum, short content) rejects. For verify; memory is
 * flat, whatever the archive size (entries are reported to onEntry, not collected).
 */
export async function listArchiveEntries(
  input: Readable,
  compression: Compression,
  onEntry?: (entry: ArchiveEntryInfo) => void,
  /** For an encrypted archive: its decrypting stage (crypto/archive-cipher.ts). */
  decrypt?: Duplex,
): Promise<ArchiveListing> {
  const listing: ArchiveListing = { entryCount: 0, fileCount: 0, contentBytes: 0 };
  const reader = new TarReader({
    entry: (entry) => {
      listing.entryCount++;
      listing.contentBytes += entry.size;
      if (countsAsFile(entry.type)) listing.fileCount++;
      onEntry?.(entry);
    },
    content: () => undefined,
    entryEnd: () => undefined,
  });
  const teardown = new AbortController();
  await settleAll(decompressInto(input, compression, readerSink(reader), teardown.signal, decrypt), teardown);
  return listing;
}

/** TarReader as the end of a pipeline: it parses synchronously, so each write is done when it returns. */
function readerSink(reader: TarReader): Writable {
  // See gc-pacer.ts: the tar stream's chunks (from the decompressor's stdout) and the archive's are
  // garbage once parsed; without it a verify's RSS grew by ~40 MiB of dead Buffers.
  const pace = createGcPacer();
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        reader.write(chunk);
        pace(chunk.length);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    final(callback) {
      try {
        reader.end();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
