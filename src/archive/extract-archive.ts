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
import { startZstdDecompressor, type ZstdDecompressor } from './zstd-decompressor';
import type { Compression } from '../vocabulary/volume-options';
import { BatchSink, batchTuning, type BatchTuning } from './batch-sink';
import type { ExtractSetup, ExtractTotals, ExtractWorkerError } from './extract-worker';

/** See gc-pacer.ts: the archive's chunks and zlib's output are garbage as soon as they are copied. */
const GC_INTERVAL_BYTES = 4 * 1024 * 1024;
/**
 * The worker allocates little but a header and a few strings per entry: V8's default young generation
 * (up to 3 x 16 MiB) would only grow its RSS, as for the packing worker (pack-volume.ts).
 */
const WORKER_YOUNG_GENERATION_MB = 4;
/** Reads of a local archive file that zstd reads itself, to hash it: a hash update per MiB. */
const LOCAL_FILE_READ_BYTES = 1024 * 1024;

/**
 * The chunks to read an archive in (ExtractOptions.input), by compression. For zstd, 1 MiB rather than
 * the stream default (64 KiB): a threadpool trip, a hash update and a write to zstd's stdin per chunk,
 * 1 MiB saved ~0.4 s of user CPU on a 360 MB restore for ~5 MiB more peak RSS. Not for gzip: gunzip keeps
 * each chunk while it inflates it on the threadpool, and 1 MiB chunks raised the peak RSS from ~105 to
 * ~140 MiB (BENCHMARKS.md). undefined: the stream's default.
 */
export function archiveReadBytes(compression: Compression): number | undefined {
  return compression === 'zstd' ? 1024 * 1024 : undefined;
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
 * every entry (EntryGuard) and writes it (TreeWriter). gzip is inflated on the main thread (zlib's
 * threadpool) and the tar stream reaches the worker in batches (batch-sink.ts); zstd writes the tar stream
 * into a pipe the worker reads itself (zstd-decompressor.ts), so the main thread only feeds zstd the
 * archive's bytes, or, from a plain local file that is not encrypted, only hashes them while zstd reads the
 * file itself. Rejects on the first unsafe entry, corrupt byte or write error, once the worker and any
 * zstd process have stopped and the pipe is closed.
 */
export async function extractArchive(options: ExtractOptions): Promise<ExtractResult> {
  options.signal?.throwIfAborted();
  const tuning = batchTuning(options.tuning);
  const teardown = new AbortController();
  const forwardAbort = () => teardown.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  // zstd reads a plain local file itself; the file's bytes are then only hashed here, into one buffer.
  const file = options.compression === 'zstd' && !options.decrypt ? openedFileBehind(options.input) : undefined;
  const pace = file === undefined ? createGcPacer(GC_INTERVAL_BYTES) : undefined;
  const digest = new DigestStream((bytes) => {
    pace?.(bytes);
    options.onProgress?.(digest.bytes);
  });
  let zstd: ZstdDecompressor | undefined;
  let task: WorkerTask<ExtractTotals> | undefined;
  let totals: ExtractTotals;
  try {
    // startZstdDecompressor takes its own descriptor of the file before it awaits anything: nothing can
    // close input's in between.
    if (options.compression === 'zstd') zstd = await startZstdDecompressor(teardown.signal, file);
    const setup: ExtractSetup = {
      destination: options.destination,
      roomBytes: options.roomBytes ?? Number.POSITIVE_INFINITY,
      keepSpecialBits: options.keepSpecialBits ?? false,
      input: zstd && { fd: zstd.outputFd, readBytes: tuning.batchBytes },
    };
    // Stopped by the teardown: the worker may be waiting for data that will never come.
    task = new WorkerTask<ExtractTotals>(join(__dirname, 'extract-worker.js'), {
      data: setup,
      name: 'the extraction worker',
      youngGenerationMb: WORKER_YOUNG_GENERATION_MB,
      signal: teardown.signal,
    });
    let steps: Array<Promise<unknown>>;
    if (zstd) {
      const read =
        file === undefined
          ? pipeline([options.input, digest, ...(options.decrypt ? [options.decrypt] : []), zstd.stdin as Writable], { signal: teardown.signal })
          : digestFile(file, digest, LOCAL_FILE_READ_BYTES, teardown.signal);
      steps = [waitForZstd(read, zstd), zstd.exited, waitForZstd(task.outcome, zstd)];
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
    throw await explain(error, zstd?.exited);
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
    options.input.destroy();
    // settleAll has seen zstd exit; if it never ran (the worker failed to start), the abort above killed
    // it. Its exit releases a worker blocked reading the pipe, so terminate() returns.
    await zstd?.exited.catch(() => undefined);
    await task?.terminate();
    if (zstd) closeSync(zstd.outputFd);
  }
  return { sha256: digest.sha256(), bytes: digest.bytes, ...totals };
}

/**
 * What a step sees when zstd stopped early: EPIPE on zstd's stdin (it closed it), or a tar stream that
 * ended early in the worker (it closed its output). zstd's own exit status says why.
 */
function isZstdSymptom(error: unknown): boolean {
  const failure = error as ExtractWorkerError;
  return failure.code === 'EPIPE' || failure.streamEnded === true;
}

/**
 * A step that failed because zstd stopped settles only once zstd has exited: teardown would otherwise
 * kill a zstd that is still on its way out, and its own exit status, which says why (explain()), would
 * be lost.
 */
function waitForZstd<T>(step: Promise<T>, zstd: ZstdDecompressor): Promise<T> {
  return step.catch(async (error: unknown) => {
    if (isZstdSymptom(error)) await zstd.exited.catch(() => undefined);
    throw error;
  });
}

/**
 * The reason of a failure that is only a symptom of zstd giving up on its input (corrupt, truncated, not
 * zstd) is zstd's exit status, unless zstd was killed by the teardown (an AbortError). Any other failure
 * is the cause itself, even when zstd failed too: a stage before zstd that failed (a wrong decryption
 * key, an unreadable target) cuts zstd's input short, and zstd may exit with "unexpected end of file"
 * before the teardown's kill reaches it.
 */
async function explain(failure: unknown, zstdExited: Promise<void> | undefined): Promise<unknown> {
  if (zstdExited === undefined || !isZstdSymptom(failure)) return failure;
  return zstdExited.then(
    () => failure,
    (zstdError: Error) => (zstdError.name === 'AbortError' ? failure : zstdError),
  );
}
