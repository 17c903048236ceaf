import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../vocabulary/volume-options';
import { DigestStream } from './digest-stream';
import { createGcPacer } from './gc-pacer';
import { GzipMembers } from './gzip-members';
import { gatheredOutput, type ArchiveOutput } from './archive-output';
import { packVolume } from './pack-volume';
import type { ChainLink } from './pack-changes';
import { settleAll } from './settle-all';
import { startZstdCompressor } from './zstd-compressor';

/**
 * zstd's output (64 KiB pipe reads) reaches output in chunks of about this size (see chunk-coalescer.ts,
 * pooled-file-writer.ts). Not gzip's: its members already come in ~100 KiB+ runs, and coalescing them cost
 * more RSS than time (a pooled copy too: +6 MiB, BENCHMARKS.md).
 */
const OUTPUT_CHUNK_BYTES = 512 * 1024;

const GZIP_BATCHES = { batchBytes: 512 * 1024, poolSize: 3 };

export interface CreateArchiveOptions {
  sourceDir: string;
  compression: Compression;
  /** Globs relative to sourceDir (see createExcludeMatcher). */
  exclude: readonly string[];
  /** Receives the archive bytes; ended on success, destroyed on failure. Making it durable is the target's job. */
  output: ArchiveOutput;
  /** Encrypts the compressed bytes (see crypto/archive-cipher.ts); what output receives, and sha256 covers, is its output. */
  encrypt?: Duplex;
  signal?: AbortSignal;
  /** Makes the archive a link of an incremental chain (pack-changes.ts). */
  chain?: ChainLink;
  /** Hears the bytes written to output so far, at every chunk (the run's progress). */
  onBytes?: (bytes: number) => void;
}

export interface ArchiveResult {
  /** Bytes written to output. */
  bytes: number;
  /** Regular files archived (hard links included), not directories or symlinks. */
  fileCount: number;
  /** Hex sha256 of the bytes written to output (after encryption: what is stored). */
  sha256: string;
}

/**
 * Streams sourceDir as tar (packed in a worker thread) through gzip (parallel members on the threadpool),
 * zstd (the binary) or nothing into output. Memory is a few fixed-size buffers whatever the volume size
 * (BENCHMARKS.md). Settles only when every part has stopped (no file open, no worker or zstd running), so
 * a caller may delete a partial output as soon as it rejects.
 */
export async function createArchive(options: CreateArchiveOptions): Promise<ArchiveResult> {
  options.signal?.throwIfAborted();
  // Paced where the garbage is made: every chunk handed to output is a fresh buffer (see gc-pacer.ts).
  const pace = createGcPacer();
  const { onBytes } = options;
  const digest: DigestStream = new DigestStream(
    onBytes
      ? (bytes) => {
          pace(bytes);
          onBytes(digest.bytes);
        }
      : pace,
  );
  const teardown = new AbortController();
  const forwardAbort = () => teardown.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  const pack = {
    sourceDir: options.sourceDir,
    exclude: options.exclude,
    chain: options.chain,
    signal: teardown.signal,
  };

  let packed: Promise<{ fileCount: number }>;
  const steps: Array<Promise<unknown>> = [];
  let zstdExited: Promise<void> | undefined;
  // Encryption sits between compression and the digest: the manifest's sha256 is of the stored bytes.
  const encrypt = options.encrypt ? [options.encrypt] : [];
  const output = options.output.stream;
  if (options.compression === 'none' && !options.encrypt && options.output.kind === 'local-file') {
    // Zero copy: the worker's batches are hashed and written to the file as they are, and go back to the
    // worker once written. packVolume ends the output; on failure it is left for us to destroy.
    packed = packVolume({ ...pack, destination: output, zeroCopy: true, observe: digest.observe });
    packed.catch(() => output.destroy());
    steps.push(packed);
  } else if (options.compression === 'none') {
    packed = packVolume({ ...pack, destination: options.encrypt ?? digest });
    steps.push(packed, pipeline([...encrypt, digest, output], { signal: teardown.signal }));
  } else if (options.compression === 'gzip') {
    const gzip = new GzipMembers();
    // zeroCopy: GzipMembers copies each chunk into its blocks before calling back. Batches of one block,
    // three of them: the worker needs no more to keep the members busy (-3 MiB RSS against 4 x 1 MiB).
    packed = packVolume({ ...pack, destination: gzip, zeroCopy: true, tuning: GZIP_BATCHES });
    steps.push(packed, pipeline([gzip, ...encrypt, digest, output], { signal: teardown.signal }));
  } else {
    const zstd = await startZstdCompressor(teardown.signal).catch((error: unknown) => {
      options.signal?.removeEventListener('abort', forwardAbort);
      throw error;
    });
    zstdExited = zstd.exited;
    // Closing the pipe once the worker stopped is zstd's end of input (or, after a failure, moot: zstd
    // has been killed).
    packed = packVolume({ ...pack, destination: { fd: zstd.inputFd } }).finally(() => zstd.close());
    const toOutput = pipeline([zstd.stdout, ...encrypt, digest, ...gatheredOutput(options.output, OUTPUT_CHUNK_BYTES)], {
      signal: teardown.signal,
    });
    steps.push(packed, toOutput, zstd.exited);
  }
  try {
    await settleAll(steps, teardown);
  } catch (error) {
    // Aborted by the caller: the other steps' AbortErrors may have come first; the caller's reason says why.
    if (options.signal?.aborted) throw options.signal.reason;
    throw await explain(error, zstdExited);
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
  }
  const { fileCount } = await packed;
  return { bytes: digest.bytes, fileCount, sha256: digest.sha256() };
}

/** A zstd that died shows up first as EPIPE in the packing worker; its own exit status says why. */
async function explain(failure: unknown, zstdExited: Promise<void> | undefined): Promise<unknown> {
  if ((failure as NodeJS.ErrnoException).code !== 'EPIPE' || zstdExited === undefined) return failure;
  return zstdExited.then(
    () => failure,
    (codecError: unknown) => codecError,
  );
}
