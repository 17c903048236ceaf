import { WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { ChunkCoalescer } from './chunk-coalescer';
import { PooledFileWriter } from './pooled-file-writer';

/**
 * Whether output is a plain local file stream (`fs.createWriteStream`): it is done with a chunk once the
 * chunk's write callback ran (the bytes are in the file) and keeps no reference to it, so the packing
 * worker's own batches can be written to it and reused afterwards (no copy, no garbage). A subclass may
 * hold chunks longer (an override of _write or _writev), so only the class itself, unpatched, counts.
 */
export function isLocalFileOutput(output: Writable): output is WriteStream {
  return output.constructor === WriteStream && !Object.hasOwn(output, '_write') && !Object.hasOwn(output, '_writev');
}

/**
 * The last stages of a pipeline of small chunks (zstd's 64 KiB pipe reads) into output: a local file gets
 * them through a PooledFileWriter (no garbage per chunk), any other output gathered into chunks of about
 * `gatherBytes` (see chunk-coalescer.ts).
 */
export function gatheredOutput(output: Writable, gatherBytes: number): Writable[] {
  if (isLocalFileOutput(output)) return [new PooledFileWriter(output, { bufferBytes: gatherBytes })];
  return [new ChunkCoalescer(gatherBytes), output];
}
