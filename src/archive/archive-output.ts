import type { WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { ChunkCoalescer } from './chunk-coalescer';
import { PooledFileWriter } from './pooled-file-writer';

/**
 * Where createArchive writes, as the one who made the stream declares it.
 *
 * 'local-file': a plain `fs.createWriteStream` file, neither subclassed nor patched. It is done with a
 * chunk once the chunk's write callback ran (the bytes are in the file) and keeps no reference to it, so
 * the packing worker's own batches can be written to it and reused afterwards (no copy, no garbage): the
 * fast path of the local target. 'stream': anything else, which may hold a chunk for longer (an upload
 * collecting parts), so it gets copies.
 */
export type ArchiveOutput = { kind: 'local-file'; stream: WriteStream } | { kind: 'stream'; stream: Writable };

/**
 * The last stages of a pipeline of small chunks (zstd's 64 KiB pipe reads) into output: a local file gets
 * them through a PooledFileWriter (no garbage per chunk), any other output gathered into chunks of about
 * `gatherBytes` (see chunk-coalescer.ts).
 */
export function gatheredOutput(output: ArchiveOutput, gatherBytes: number): Writable[] {
  if (output.kind === 'local-file') return [new PooledFileWriter(output.stream, { bufferBytes: gatherBytes })];
  return [new ChunkCoalescer(gatherBytes), output.stream];
}
