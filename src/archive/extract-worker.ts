import { readSync } from 'node:fs';
import { serveWorkerTask, type TaskPort } from '../shared/worker-task';
import { parseDumpdir } from './dumpdir';
import { TarReader } from './tar-reader';
import { countsAsFile } from './tar-entry';
import { EntryGuard } from './entry-guard';
import { TreeWriter } from './tree-writer';

/**
 * The extraction worker's entry point (extractArchive starts it).
 *
 * Why a worker: extracting is several small system calls per file (open, write, fchown, fchmod, futimes,
 * close). Through the libuv threadpool each costs a round trip and event-loop time (the packer measured
 * ~15 µs each, BENCHMARKS.md); in the worker they are plain blocking calls, as in GNU tar, while the main
 * thread reads and decompresses the archive. The tar stream comes in batches (batch-sink.ts), each given
 * back once parsed, or straight from the decompressor's pipe.
 */
export interface ExtractSetup {
  destination: string;
  /** Content bytes the destination's filesystem can take. */
  roomBytes: number;
  /** See ExtractOptions.keepSpecialBits. */
  keepSpecialBits: boolean;
  /**
   * When set, the worker reads the tar stream itself from this descriptor (the blocking read end of the
   * pipe zstd or unpigz writes to, see piped-decompressor.ts), readBytes at a time, and gets no batches.
   */
  input?: { fd: number; readBytes: number };
}

export interface ExtractTotals {
  entryCount: number;
  fileCount: number;
  contentBytes: number;
}

/** streamEnded: the failure came once the whole stream was read (a truncated archive, for instance). */
export type ExtractWorkerError = Error & { code?: string; streamEnded?: boolean };

serveWorkerTask<ExtractSetup, ExtractTotals>((setup, port) => new Promise((resolve, reject) => extract(setup, port, resolve, reject)));

function extract(data: ExtractSetup, port: TaskPort, resolve: (totals: ExtractTotals) => void, reject: (error: ExtractWorkerError) => void): void {
  const guard = new EntryGuard();
  const writer = new TreeWriter(data.destination, { roomBytes: data.roomBytes, keepSpecialBits: data.keepSpecialBits });
  let entryCount = 0;
  let fileCount = 0;
  let failed = false;
  let streamEnded = false;

  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    writer.abandon();
    const failure = error instanceof Error ? error : new Error(String(error));
    reject(Object.assign(failure, { streamEnded }));
  };
  /** Runs a step; the first error (unsafe entry, damaged archive, failed write) stops everything. */
  const guarded = (step: () => void) => {
    if (failed) return;
    try {
      step();
    } catch (error) {
      fail(error);
    }
  };

  /** The content of the dumpdir entry being read, with its directory's path (dumpdir.ts). */
  let dumpdir: { path: string; content: Buffer[] } | undefined;

  // Synchronous: every entry is checked and written before write() returns (tar-reader.ts).
  const reader = new TarReader({
    entry: (header) => {
      // A dumpdir is its directory, plus the list of names the directory keeps (applied at its end).
      const entry = header.type === 'GNUDumpDir' ? { ...header, type: 'Directory' } : header;
      const path = guard.check(entry);
      if (header.type === 'GNUDumpDir') dumpdir = { path, content: [] };
      entryCount++;
      if (countsAsFile(entry.type)) fileCount++;
      writer.begin({
        path,
        type: entry.type,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        mtime: entry.mtime,
        linkpath: entry.type === 'Link' ? guard.normalizeLinkTarget(entry) : entry.linkpath,
      });
    },
    content: (chunk) => (dumpdir ? dumpdir.content.push(Buffer.from(chunk)) : writer.write(chunk)),
    entryEnd: () => {
      if (dumpdir) writer.purge(dumpdir.path, parseDumpdir(Buffer.concat(dumpdir.content)));
      dumpdir = undefined;
      writer.end();
    },
  });

  const finish = () => {
    streamEnded = true;
    guarded(() => {
      reader.end();
      writer.finish();
      resolve({ entryCount, fileCount, contentBytes: writer.contentBytes });
    });
  };

  port.receive({
    batch: (buffer, length) => {
      guarded(() => reader.write(Buffer.from(buffer, 0, length)));
      // The reader keeps no view of a batch once write() returned: it goes back to be filled again.
      if (!failed) port.giveBack(buffer);
    },
    end: finish,
  });
  // The listener above keeps the worker alive until extractArchive terminates it, in this mode too.
  if (data.input !== undefined) readStream(data.input.fd, Buffer.alloc(data.input.readBytes));

  /**
   * Reads the tar stream from a pipe with blocking reads until its end, parsing each read at once: no
   * message per batch, and the main thread never sees the data. While this parses and writes, the
   * decompressor fills the pipe again.
   */
  function readStream(fd: number, buffer: Buffer): void {
    while (!failed) {
      let read: number;
      try {
        read = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        return fail(error);
      }
      if (read === 0) return finish();
      guarded(() => reader.write(buffer.subarray(0, read)));
    }
  }
}
