/**
 * Messages between extractArchive (main thread) and extract-worker.ts.
 *
 * Why a worker: extracting is several small system calls per file (open, write, fchown, fchmod, futimes,
 * close). Through the libuv threadpool each costs a round trip and event-loop time (the packer measured
 * ~15 µs each, BENCHMARKS.md); in the worker they are plain blocking calls, as in GNU tar, while the main
 * thread reads and decompresses the archive. Chunks of the decompressed tar stream are posted (copied)
 * to the worker; each is acknowledged once written, which is the backpressure.
 */
export interface ExtractWorkerData {
  destination: string;
  /** Content bytes the destination's filesystem can take. */
  roomBytes: number;
}

export type ExtractRequest = { kind: 'chunk'; chunk: Uint8Array } | { kind: 'end' };

export type ExtractReply =
  | { kind: 'ack' }
  | { kind: 'done'; entryCount: number; fileCount: number; contentBytes: number }
  | { kind: 'failed'; message: string; code?: string };
