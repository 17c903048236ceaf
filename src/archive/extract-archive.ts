import { closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WorkerTask } from '../shared/worker-task';
import { digestFile, openedFileBehind } from './archive-file';
import { decompressInto } from './decompress';
import { DigestStream } from './digest-stream';
import { createGcPacer } from './gc-pacer';
import { settleAll } from './settle-all';
import { startPipedDecompressor, type PipedDecompressor } from './piped-decompressor';
import type { Compression } from '../vocabulary/volume-options';
import { BatchSink, batchTuning, type BatchTuning } from './batch-sink';
import type { ExtractSetup, ExtractTotals, ExtractWorkerError } from './extract-worker';

/**
 * The worker allocates little but a header and a few strings per entry: V8's default young generation
 * (up to 3 x 16 MiB) would only grow its RSS, as for the packing worker (pack-volume.ts).
 */
const WORKER_YOUNG_GENERATION_MB = 4;
/** Reads of a local archive file that the decompressor reads itself, to hash it: a hash update per MiB. */
const LOCAL_FILE_READ_BYTES = 1024 * 1024;

/**
 * The chunks to read an archive in (ExtractOptions.input), by compression. For zstd and gzip, 1 MiB rather
 * than the stream default (64 KiB): a threadpool trip, a hash update and a write to the decompressor's
 * stdin per chunk, 1 MiB saved ~0.4 s of user CPU on a 360 MB restore for ~5 MiB more peak RSS.
 * undefined: the stream's default.
 */
export function archiveReadBytes(compression: Compression): number | undefined {
  return compression === 'none' ? undefined : 1024 * 1024;
}

export interface ExtractOptions {
  /** The archive's bytes, as stored (compressed, maybe encrypted). */
  input: Readable;
  compression: Compression;
  /** For an encrypted archive: its decrypting stage, after the digest (sha256 is of the stored bytes). */
  decrypt?: Duplex;
  /** An empty directory that receives the tree; on failure the caller deletes it. */
  destination: string;
  /** Content bytes the destination can take (see TreeWriter). */
  roomBytes?: number;
  /** Restore set-user-ID and set-group-ID bits as the archive gives them (setting RESTORE_SPECIAL_BITS). */
  keepSpecialBits?: boolean;
  /** Told the number of archive bytes read so far, for a progress line. */
  onProgress?: (archiveBytes: number) => void;
  signal?: AbortSignal;
  /** Tests only: small batches put batch boundaries inside headers and bodies. */
  tuning?: BatchTuning;
}

export interface ExtractResult {
  /** sha256 and size of the archive bytes read: the caller compares them with the manifest. */
  sha256: string;
  bytes: number;
  entryCount: number;
  fileCount: number;
  contentBytes: number;
}

/**
 * Extracts an archive into destination: the main thread reads and hashes the archive, the worker checks
 * every entry (EntryGuard) and writes it (TreeWriter). zstd or unpigz writes the tar stream into a pipe
 * the worker reads itself (piped-decompressor.ts), so the main thread only feeds the decompressor the
 * archive's bytes, or, from a plain local file that is not encrypted, only hashes them while the
 * decompressor reads the file itself. An uncompressed tar stream reaches the worker in batches
 * (batch-sink.ts). Rejects on the first unsafe entry, corrupt byte or write error, once the worker and any
 * decompressor have stopped and the pipe is closed.
 */
export async function extractArchive(options: ExtractOptions): Promise<ExtractResult> {
  options.signal?.throwIfAborted();
  const tuning = batchTuning(options.tuning);
  const teardown = new AbortController();
  const forwardAbort = () => teardown.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  const codec = options.compression === 'none' ? undefined : options.compression;
  // The decompressor reads a plain local file itself; its bytes are then only hashed here, into one buffer.
  const file = codec !== undefined && !options.decrypt ? openedFileBehind(options.input) : undefined;
  // See gc-pacer.ts: the archive's chunks are garbage as soon as they are hashed and handed on.
  const pace = file === undefined ? createGcPacer() : undefined;
  const digest = new DigestStream((bytes) => {
    pace?.(bytes);
    options.onProgress?.(digest.bytes);
  });
  let decompressor: PipedDecompressor | undefined;
  let task: WorkerTask<ExtractTotals> | undefined;
  let totals: ExtractTotals;
  try {
    // startPipedDecompressor takes its own descriptor of the file before it awaits anything: nothing can
    // close input's in between.
    if (codec !== undefined) decompressor = await startPipedDecompressor(codec, teardown.signal, file);
    const setup: ExtractSetup = {
      destination: options.destination,
      roomBytes: options.roomBytes ?? Number.POSITIVE_INFINITY,
      keepSpecialBits: options.keepSpecialBits ?? false,
      input: decompressor && { fd: decompressor.outputFd, readBytes: tuning.batchBytes },
    };
    // Stopped by the teardown: the worker may be waiting for data that will never come.
    task = new WorkerTask<ExtractTotals>(join(__dirname, 'extract-worker.js'), {
      data: setup,
      name: 'the extraction worker',
      youngGenerationMb: WORKER_YOUNG_GENERATION_MB,
      signal: teardown.signal,
    });
    let steps: Array<Promise<unknown>>;
    if (decompressor) {
      const read =
        file === undefined
          ? pipeline([options.input, digest, ...(options.decrypt ? [options.decrypt] : []), decompressor.stdin as Writable], { signal: teardown.signal })
          : digestFile(file, digest, LOCAL_FILE_READ_BYTES, teardown.signal);
      steps = [waitForDecompressor(read, decompressor), decompressor.exited, waitForDecompressor(task.outcome, decompressor)];
    } else {
      const sink = new BatchSink(task, tuning);
      const read = pipeline(options.input, digest, { signal: teardown.signal });
      steps = [read, ...decompressInto(digest, options.compression, sink, teardown.signal, options.decrypt), task.outcome];
    }
    await settleAll(steps, teardown);
    totals = await task.outcome;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    teardown.abort(error); // a step that was never started
    throw await explain(error, decompressor?.exited);
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
    options.input.destroy();
    // settleAll has seen the decompressor exit; if it never ran (the worker failed to start), the abort
    // above killed it. Its exit releases a worker blocked reading the pipe, so terminate() returns.
    await decompressor?.exited.catch(() => undefined);
    await task?.terminate();
    if (decompressor) closeSync(decompressor.outputFd);
  }
  return { sha256: digest.sha256(), bytes: digest.bytes, ...totals };
}

/**
 * What a step sees when the decompressor stopped early: EPIPE on its stdin (it closed it), or a tar stream
 * that ended early in the worker (it closed its output). Its own exit status says why.
 */
function isDecompressorSymptom(error: unknown): boolean {
  const failure = error as ExtractWorkerError;
  return failure.code === 'EPIPE' || failure.streamEnded === true;
}

/**
 * A step that failed because the decompressor stopped settles only once it has exited: teardown would
 * otherwise kill one that is still on its way out, and its own exit status, which says why (explain()),
 * would be lost.
 */
function waitForDecompressor<T>(step: Promise<T>, decompressor: PipedDecompressor): Promise<T> {
  return step.catch(async (error: unknown) => {
    if (isDecompressorSymptom(error)) await decompressor.exited.catch(() => undefined);
    throw error;
  });
}

/**
 * The reason of a failure that is only a symptom of the decompressor giving up on its input (corrupt,
 * truncated, not that format) is its exit status, unless it was killed by the teardown (an AbortError).
 * Any other failure is the cause itself, even when the decompressor failed too: a stage before it that
 * failed (a wrong decryption key, an unreadable target) cuts its input short, and it may exit with
 * "unexpected end of file" before the teardown's kill reaches it.
 */
async function explain(failure: unknown, decompressorExited: Promise<void> | undefined): Promise<unknown> {
  if (decompressorExited === undefined || !isDecompressorSymptom(failure)) return failure;
  return decompressorExited.then(
    () => failure,
    (decompressorError: Error) => (decompressorError.name === 'AbortError' ? failure : decompressorError),
  );
}
