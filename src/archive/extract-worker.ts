import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { parseDumpdir } from './dumpdir';
import { TarReader } from './tar-reader';
import { countsAsFile } from './tar-entry';
import { EntryGuard } from './entry-guard';
import type { ExtractReply, ExtractRequest, ExtractWorkerData } from './extract-worker-protocol';
import { TreeWriter } from './tree-writer';

// The extraction worker's entry point; extract-worker-protocol.ts says why extraction runs in a worker.

function run(port: NonNullable<typeof parentPort>): void {
  const data = workerData as ExtractWorkerData;
  const guard = new EntryGuard();
  const writer = new TreeWriter(data.destination, { roomBytes: data.roomBytes, keepSpecialBits: data.keepSpecialBits });
  let entryCount = 0;
  let fileCount = 0;
  let failed = false;
  let streamEnded = false;

  const reply = (message: ExtractReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    writer.abandon();
    const { message, code } = error as NodeJS.ErrnoException;
    reply({ kind: 'failed', message, code, streamEnded });
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
      reply({ kind: 'done', entryCount, fileCount, contentBytes: writer.contentBytes });
    });
  };

  port.on('message', (request: ExtractRequest) => {
    if (request.kind === 'end') return finish();
    guarded(() => reader.write(Buffer.from(request.buffer, 0, request.length)));
    // The reader keeps no view of a batch once write() returned: it goes back to be filled again.
    if (!failed) reply({ kind: 'consumed', buffer: request.buffer }, [request.buffer]);
  });
  // The listener above keeps the worker alive until extractArchive terminates it, in this mode too.
  if (data.input !== undefined) readStream(data.input.fd, Buffer.alloc(data.input.readBytes));

  /**
   * Reads the tar stream from a pipe with blocking reads until its end, parsing each read at once: no
   * message per batch, and the main thread never sees the data. While this parses and writes, zstd fills
   * the pipe again.
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

if (parentPort) run(parentPort);
