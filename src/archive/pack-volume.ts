import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { MessageChannel, Worker } from 'node:worker_threads';
import { CONTROL_SLOTS, STOP, WAITING, WAKE, type PackWorkerData, type PackWorkerMessage } from './pack-worker-protocol';

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
export function packVolume(options: PackVolumeOptions): Promise<{ fileCount: number }> {
  options.signal?.throwIfAborted();
  const { destination } = options;
  // Not `'fd' in destination`: a file's WriteStream has an fd too.
  const toFd = !(destination instanceof Writable);
  const batchBytes = toFd ? PIPE_BATCH_BYTES : options.zeroCopy ? ZERO_COPY_BATCH_BYTES : DEFAULT_TUNING.batchBytes;
  const tuning = { ...DEFAULT_TUNING, batchBytes, ...options.tuning };
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  const returns = new MessageChannel();
  const workerData: PackWorkerData = {
    root: options.sourceDir,
    exclude: options.exclude,
    batchBytes: tuning.batchBytes,
    poolSize: tuning.poolSize,
    control: control.buffer as SharedArrayBuffer,
    returns: returns.port2,
    sinkFd: toFd ? destination.fd : undefined,
  };
  const worker = new Worker(join(__dirname, 'pack-worker.js'), {
    workerData,
    transferList: [returns.port2],
    // The worker allocates little but a Stats per file; V8's default young generation (up to 3 x 16 MiB)
    // would only grow its RSS, with no measurable gain in speed.
    resourceLimits: { maxYoungGenerationSizeMb: tuning.workerYoungGenerationMb },
  });
  const wake = () => {
    Atomics.add(control, WAKE, 1);
    if (Atomics.load(control, WAITING) !== 0) Atomics.notify(control, WAKE);
  };

  return new Promise((resolve, reject) => {
    let failure: unknown;
    let done: Promise<{ fileCount: number }> | undefined;
    const stop = (error: unknown) => {
      if (failure !== undefined) return;
      failure = error;
      Atomics.store(control, STOP, 1);
      wake();
    };
    const onAbort = () => stop(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // Stays attached: an error after we settled (EPIPE from a compressor that died) must not crash.
    if (!toFd) destination.on('error', stop);

    worker.on('message', (message: PackWorkerMessage) => {
      if (failure !== undefined) return;
      if (message.kind === 'failed') {
        stop(Object.assign(new Error(message.message), { code: message.code, path: message.path }));
      } else if (message.kind === 'done') {
        const result = { fileCount: message.fileCount };
        if (toFd) {
          done = Promise.resolve(result);
        } else {
          destination.end();
          done = finished(destination, { readable: false }).then(() => result);
          done.catch(stop);
        }
      } else if (!toFd) {
        const { buffer } = message;
        const batch = Buffer.from(buffer, 0, message.length);
        // A copy is allocated here, on this thread's young generation, where the GC pacer frees it soon
        // (a transferred buffer dropped here would wait for a full GC; see gc-pacer.ts).
        const chunk = options.zeroCopy ? batch : Buffer.from(batch);
        options.observe?.(chunk);
        // The batch goes back only after the write completed: that is the backpressure on the worker.
        destination.write(chunk, (error) => {
          if (error) return stop(error);
          returns.port1.postMessage({ buffer }, [buffer]);
          wake();
        });
      }
    });
    worker.on('error', stop);
    worker.once('exit', () => {
      returns.port1.close();
      options.signal?.removeEventListener('abort', onAbort);
      const settle = async () => {
        const result = failure === undefined ? await done : undefined;
        if (failure !== undefined || result === undefined) throw failure ?? new Error('the packing worker exited early');
        return result;
      };
      settle().then(resolve, reject);
    });
  });
}
