/**
 * Messages between extractArchive (main thread) and extract-worker.ts.
 *
 * Why a worker: extracting is several small system calls per file (open, write, fchown, fchmod, futimes,
 * close). Through the libuv threadpool each costs a round trip and event-loop time (the packer measured
 * ~15 µs each, BENCHMARKS.md); in the worker they are plain blocking calls, as in GNU tar, while the main
 * thread reads and decompresses the archive.
 *
 * The decompressed tar stream goes to the worker in batches (batch-sink.ts): fixed-size ArrayBuffers
 * transferred, not copied, and transferred back once the parser is done with them, to be filled again. A
 * message costs ~40 µs on each side, so batches are large (one per zlib or pipe chunk was measured to cost
 * more CPU than the parsing); the return is the backpressure.
 */
export interface ExtractWorkerData {
  destination: string;
  /** Content bytes the destination's filesystem can take. */
  roomBytes: number;
  /** See ExtractOptions.keepSpecialBits. */
  keepSpecialBits: boolean;
  /**
   * When set, the worker reads the tar stream itself from this descriptor (the blocking read end of the
   * pipe zstd writes to, see zstd-decompressor.ts), readBytes at a time, and gets no batches.
   */
  input?: { fd: number; readBytes: number };
}

/** `length` bytes of `buffer` are tar stream; `buffer` comes back in a 'consumed' reply. */
export type ExtractRequest = { kind: 'batch'; buffer: ArrayBuffer; length: number } | { kind: 'end' };

export type ExtractReply =
  | { kind: 'consumed'; buffer: ArrayBuffer }
  | { kind: 'done'; entryCount: number; fileCount: number; contentBytes: number }
  /** streamEnded: the failure came once the whole stream was read (a truncated archive, for instance). */
  | { kind: 'failed'; message: string; code?: string; streamEnded: boolean };
