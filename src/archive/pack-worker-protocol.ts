import type { MessagePort } from 'node:worker_threads';

/**
 * Messages and shared flags between packVolume (main thread) and pack-worker.ts.
 *
 * Why a worker: tar packing is thousands of small system calls (lstat, open, read, close per file).
 * Through the libuv threadpool each costs a round trip and ~15 µs of event-loop time, which made small
 * files the bottleneck (BENCHMARKS.md). In the worker they are plain blocking calls, as in GNU tar, and
 * the main thread only moves ~1 MiB batches. Batches are ArrayBuffers transferred (not copied) to the
 * main thread and transferred back for reuse once written: memory is poolSize x batchBytes. When the tar
 * stream goes to a pipe (zstd), the worker writes it there itself and the main thread sees none of it.
 */
export interface PackWorkerData {
  root: string;
  exclude: readonly string[];
  batchBytes: number;
  poolSize: number;
  /** Int32Array over it: [WAKE counter, STOP flag, WAITING flag], see pack-volume.ts. */
  control: SharedArrayBuffer;
  /** Main thread -> worker: { buffer } of each batch written, for reuse. */
  returns: MessagePort;
  /** When set, the worker writes the stream to this descriptor itself (blocking) and posts no batches. */
  sinkFd?: number;
}

export type PackWorkerMessage =
  | { kind: 'batch'; buffer: ArrayBuffer; length: number }
  | { kind: 'done'; fileCount: number }
  | { kind: 'failed'; message: string; code?: string; path?: string };

export const WAKE = 0;
export const STOP = 1;
/** Set by the worker while it sleeps: the main thread only pays for a futex wake-up when it is. */
export const WAITING = 2;
export const CONTROL_SLOTS = 3;


/** Thrown in the packing worker once the main thread asked it to stop; unwinding closes the open file. */
export class PackStopped extends Error {}
