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
  /** When set, the archive is a link of an incremental chain (pack-changes.ts). */
  chain?: ChainLink;
}

/** What an archive of an incremental chain packs against (see pack-changes.ts). */
export interface ChainLink {
  /** The index of the archive this one applies on; none for the full archive that starts the chain. */
  previousIndex?: string;
  /** Where this archive's index goes. */
  nextIndex: string;
  /** Whether inode numbers and ctimes tell changes (not so for a fresh copy of the volume). */
  trustInode: boolean;
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

