import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { decompressInto } from '../archive/decompress';
import { DigestStream } from '../archive/digest-stream';
import { createGcPacer } from '../archive/gc-pacer';
import { settleAll } from '../archive/settle-all';
import type { Compression } from '../volumes/volume-options';
import { BatchSink, batchTuning, type BatchTuning } from './batch-sink';
import type { ExtractWorkerData } from './extract-worker-protocol';

/** See gc-pacer.ts: the archive's chunks and zlib's output are garbage as soon as they are copied. */
const GC_INTERVAL_BYTES = 4 * 1024 * 1024;
/**
 * The worker allocates little but a header and a few strings per entry: V8's default young generation
 * (up to 3 x 16 MiB) would only grow its RSS, as for the packing worker (pack-volume.ts).
 */
const WORKER_YOUNG_GENERATION_MB = 4;

export interface ExtractOptions {
  /** The archive's bytes, as stored (compressed). */
  input: Readable;
  compression: Compression;
  /** An empty directory that receives the tree; on failure the caller deletes it. */
  destination: string;
  /** Content bytes the destination can take (see TreeWriter). */
  roomBytes?: number;
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
 * Extracts an archive into destination: the main thread reads, hashes and decompresses, the worker checks
 * every entry (EntryGuard) and writes it (TreeWriter). Rejects on the first unsafe entry, corrupt byte or
 * write error, once the worker and any zstd process have stopped.
 */
export async function extractArchive(options: ExtractOptions): Promise<ExtractResult> {
  options.signal?.throwIfAborted();
  const tuning = batchTuning(options.tuning);
  const teardown = new AbortController();
  const forwardAbort = () => teardown.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  const pace = createGcPacer(GC_INTERVAL_BYTES);
  const digest = new DigestStream((bytes) => {
    pace(bytes);
    options.onProgress?.(digest.bytes);
  });
  const workerData: ExtractWorkerData = { destination: options.destination, roomBytes: options.roomBytes ?? Number.POSITIVE_INFINITY };
  const worker = new Worker(join(__dirname, 'extract-worker.js'), {
    workerData,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  const sink = new BatchSink(worker, teardown.signal, tuning);
  try {
    const read = pipeline(options.input, digest, { signal: teardown.signal });
    await settleAll([read, ...decompressInto(digest, options.compression, sink, teardown.signal), sink.done], teardown);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
    options.input.destroy();
    await worker.terminate();
  }
  const totals = await sink.done;
  return { sha256: digest.sha256(), bytes: digest.bytes, ...totals };
}
