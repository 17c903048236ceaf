import { Readable, Writable, type Duplex } from 'node:stream';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import type { Compression } from '../volumes/volume-options';
import { decompressInto } from './decompress';
import { settleAll } from './settle-all';
import { countsAsFile } from './tar-entry';

export interface ArchiveEntryInfo {
  path: string;
  /** node-tar's type name: File, Directory, SymbolicLink, Link, FIFO, ... */
  type: string;
  size: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkpath?: string;
}

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
  const parser = new Parser({
    // strict: every warning (bad checksum, truncated entry, not a tar) is an error.
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      listing.entryCount++;
      listing.contentBytes += entry.size;
      if (countsAsFile(entry.type)) listing.fileCount++;
      onEntry?.({
        path: entry.path,
        type: entry.type,
        size: entry.size,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        mtime: entry.mtime,
        linkpath: entry.linkpath,
      });
      entry.resume();
    },
  });
  const teardown = new AbortController();
  await settleAll(decompressInto(input, compression, parserSink(parser), teardown.signal, decrypt), teardown);
  return listing;
}

/** node-tar's Parser is an EventEmitter with write/end, not a stream: adapt it for pipeline(). */
export function parserSink(parser: Parser): Writable {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (parser.write(chunk)) callback();
      else parser.once('drain', () => callback());
    },
    final(callback) {
      parser.once('end', () => callback());
      parser.end();
    },
  });
  parser.on('error', (error: Error) => sink.destroy(error));
  return sink;
}
