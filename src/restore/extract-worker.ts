import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { countsAsFile } from '../archive/tar-entry';
import { EntryGuard } from './entry-guard';
import type { ExtractReply, ExtractRequest, ExtractWorkerData } from './extract-worker-protocol';
import { TreeWriter } from './tree-writer';

// The extraction worker's entry point; extract-worker-protocol.ts says why extraction runs in a worker.

function run(port: NonNullable<typeof parentPort>): void {
  const data = workerData as ExtractWorkerData;
  const guard = new EntryGuard();
  const writer = new TreeWriter(data.destination, data.roomBytes);
  let entryCount = 0;
  let fileCount = 0;
  let failed = false;

  const reply = (message: ExtractReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    writer.abandon();
    const { message, code } = error as NodeJS.ErrnoException;
    reply({ kind: 'failed', message, code: (error as { code?: string }).code ?? code });
  };
  // Errors thrown by the writer inside node-tar's callbacks are caught here, so that parsing stops.
  const guarded = (step: () => void) => {
    if (failed) return;
    try {
      step();
    } catch (error) {
      fail(error);
    }
  };

  const parser = new Parser({
    // strict: every warning (bad checksum, truncated entry, not a tar) is an error.
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      guarded(() => {
        const path = guard.check(entry);
        const linkpath = entry.type === 'Link' ? guard.normalizeLinkTarget(entry) : entry.linkpath;
        entryCount++;
        if (countsAsFile(entry.type)) fileCount++;
        writer.begin({
          path,
          type: entry.type,
          mode: entry.mode ?? 0o644,
          uid: entry.uid ?? 0,
          gid: entry.gid ?? 0,
          mtime: entry.mtime ?? new Date(0),
          linkpath,
        });
      });
      entry.on('data', (chunk: Buffer) => guarded(() => writer.write(chunk)));
      entry.on('end', () => guarded(() => writer.end()));
    },
  });
  parser.on('error', fail);

  const finish = () => {
    parser.once('end', () =>
      guarded(() => {
        writer.finish();
        reply({ kind: 'done', entryCount, fileCount, contentBytes: writer.contentBytes });
      }),
    );
    parser.end();
  };

  port.on('message', (request: ExtractRequest) => {
    if (failed) return;
    if (request.kind === 'end') return finish();
    const { buffer } = request;
    // Back once the parser has written all of it (batch-sink.ts says why nothing keeps a view of it).
    const giveBack = () => reply({ kind: 'consumed', buffer }, [buffer]);
    if (parser.write(Buffer.from(buffer, 0, request.length))) giveBack();
    else parser.once('drain', giveBack);
  });
  // The listener above keeps the worker alive until extractArchive terminates it, in this mode too.
  if (data.input !== undefined) readStream(data.input.fd, Buffer.alloc(data.input.readBytes));

  /**
   * Reads the tar stream from a pipe with blocking reads into one buffer, parsing each time it is full, until
   * the end of the stream: no message per batch, and the main thread never sees the data. The buffer is
   * only parsed when full (the last one excepted), so that, as with batches, the parser consumes it whole
   * and keeps no view of it when it is filled again.
   */
  function readStream(fd: number, buffer: Buffer): void {
    while (!failed) {
      let filled = 0;
      try {
        while (filled < buffer.length) {
          const read = readSync(fd, buffer, filled, buffer.length - filled, null);
          if (read === 0) break;
          filled += read;
        }
      } catch (error) {
        return fail(error);
      }
      const last = filled < buffer.length;
      const next = last ? finish : () => readStream(fd, buffer);
      if (filled > 0 && !parser.write(buffer.subarray(0, filled))) {
        parser.once('drain', next);
        return;
      }
      if (last) return next();
    }
  }
}

if (parentPort) run(parentPort);
