import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { WorkerTask } from '../shared/worker-task';
import type { ChainLink } from './pack-changes';
import type { PackTreeResult } from './pack-tree';
import type { PackSetup } from './pack-worker';

export interface PackVolumeOptions {
  sourceDir: string;
  /** Globs relative to sourceDir (see createExcludeMatcher). */
  exclude: readonly string[];
  /**
   * Receives the tar stream: a Writable (ended after the last byte), or the write end of a pipe, which
   * the worker writes to directly (left open: the caller closes it once this settled).
   */
  destination: Writable | { fd: number };
  /**
   * Write the worker's batches themselves, to be reused once destination's write callback ran. Only for
   * destinations known to be done with a chunk by then (GzipMembers, which copies it; a local file, see
   * archive-output.ts). A generic Writable may keep a reference (e.g. one that collects parts for an
   * upload), so by default it gets a copy.
   */
  zeroCopy?: boolean;
  /** Called with each chunk right before it is written to a Writable destination (to hash it, say). */
  observe?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  tuning?: Partial<PackTuning>;
  /** Packs a link of an incremental chain (GNU dumpdirs, changed names only) rather than a plain tree. */
  chain?: ChainLink;
}

export interface PackTuning {
  /** Size of the chunks handed to destination (a multiple of 512). */
  batchBytes: number;
  /** Batches in existence: the worker waits when all are being written. */
  poolSize: number;
  workerYoungGenerationMb: number;
}

/**
 * Measured with `npm run bench` (BENCHMARKS.md). Zero-copy batches are large: each costs a message each
 * way, which is most of the main thread's work. Copied batches are smaller: each copy is garbage the
 * destination holds for a while, and smaller ones are collected sooner (lower peak RSS). Batches written
 * to a pipe are smaller still: read from the file and written to the pipe while in the CPU cache.
 */
const DEFAULT_TUNING: PackTuning = { batchBytes: 256 * 1024, poolSize: 4, workerYoungGenerationMb: 4 };
const ZERO_COPY_BATCH_BYTES = 1024 * 1024;
const PIPE_BATCH_BYTES = 128 * 1024;

/**
 * Streams sourceDir as an uncompressed tar into destination (see pack-tree.ts for what is stored), packing
 * in a worker thread. Settles once the worker has exited, so no file stays open when it rejects; on
 * failure or abort the destination is left as is (not ended) for the caller to destroy.
 */
export async function packVolume(options: PackVolumeOptions): Promise<PackTreeResult> {
  options.signal?.throwIfAborted();
  const { destination } = options;
  // Not `'fd' in destination`: a file's WriteStream has an fd too.
  const toFd = !(destination instanceof Writable);
  const batchBytes = toFd ? PIPE_BATCH_BYTES : options.zeroCopy ? ZERO_COPY_BATCH_BYTES : DEFAULT_TUNING.batchBytes;
  const tuning = { ...DEFAULT_TUNING, batchBytes, ...options.tuning };
  const setup: PackSetup = {
    root: options.sourceDir,
    exclude: options.exclude,
    batchBytes: tuning.batchBytes,
    poolSize: tuning.poolSize,
    sinkFd: toFd ? destination.fd : undefined,
    chain: options.chain,
  };
  // The worker allocates little but a Stats per file; V8's default young generation (up to 3 x 16 MiB)
  // would only grow its RSS, with no measurable gain in speed.
  const task = new WorkerTask<PackTreeResult>(join(__dirname, 'pack-worker.js'), {
    data: setup,
    name: 'the packing worker',
    youngGenerationMb: tuning.workerYoungGenerationMb,
  });

  let failure: unknown;
  const stop = (error: unknown) => {
    if (failure !== undefined) return;
    failure = error;
    task.stop(error);
  };
  const onAbort = () => stop(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // Stays attached: an error after we settled (EPIPE from a compressor that died) must not crash.
  if (!toFd) destination.on('error', stop);

  if (!toFd) {
    task.receive({
      batch: (buffer, length) => {
        if (failure !== undefined) return;
        const batch = Buffer.from(buffer, 0, length);
        // A copy is allocated here, on this thread's young generation, where the GC pacer frees it soon
        // (a transferred buffer dropped here would wait for a full GC; see gc-pacer.ts).
        const chunk = options.zeroCopy ? batch : Buffer.from(batch);
        options.observe?.(chunk);
        // The batch goes back only after the write completed: that is the backpressure on the worker.
        destination.write(chunk, (error) => (error ? stop(error) : task.giveBack(buffer)));
      },
    });
  }
  // Batches come before the worker's result: all of them are written by the time the destination ends.
  const written = task.outcome.then(async (result) => {
    if (!toFd) {
      destination.end();
      await finished(destination, { readable: false });
    }
    return result;
  });
  written.catch(stop);
  await task.exited;
  options.signal?.removeEventListener('abort', onAbort);
  if (failure !== undefined) throw failure;
  return written;
}
