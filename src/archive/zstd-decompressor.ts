import { closeSync, constants, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { reopenForReading } from './archive-file';
import { makeNamedPipe } from './named-pipe';
import { spawnZstd } from './zstd-process';

export interface ZstdDecompressor {
  /** zstd's stdin: the archive's bytes as stored. null when zstd reads the archive's file itself. */
  stdin: Writable | null;
  /**
   * Blocking read end of the pipe zstd writes the tar stream to: a worker reads it itself with readSync.
   * zstd holds the only write end, so reads see the end of the stream (0) once zstd exited, whether it
   * finished, failed or was killed: a blocked reader is always released. The caller closes it, once
   * nothing reads it any more.
   */
  outputFd: number;
  /** Resolves when zstd exited with 0 (see spawnZstd). */
  exited: Promise<void>;
}

/**
 * Starts `zstd -d` writing into a named pipe: archiving's zstd-compressor.ts the other way round. Through
 * zstd's stdout (a non-blocking socket owned by the event loop) every decompressed chunk would cross the
 * main thread on its way to the extraction worker, ~1.4 s of CPU for 700 MB (BENCHMARKS.md).
 *
 * The pipe is opened here, without waiting on anyone (Linux opens a FIFO for reading and writing at once;
 * that first descriptor only lets the other two opens return), then removed from the filesystem before
 * zstd starts: nothing of it outlives this call but the two descriptors, whatever happens next.
 *
 * With `inputFile` (the descriptor of the archive's local file, see archive-file.ts), zstd reads the file
 * itself, through a descriptor of its own, instead of every chunk crossing the main thread into its stdin
 * (~0.3 s of main-thread CPU for a 360 MB archive); the caller still reads the file, to hash it.
 */
export async function startZstdDecompressor(signal: AbortSignal, inputFile?: number): Promise<ZstdDecompressor> {
  // Before any await: the stream that owns inputFile may close it (and the number be reused) meanwhile.
  const input = inputFile === undefined ? undefined : reopenForReading(inputFile);
  try {
    return await startWithInput(signal, input);
  } finally {
    // zstd has its own copy (or never started).
    if (input !== undefined) closeSync(input);
  }
}

async function startWithInput(signal: AbortSignal, input: number | undefined): Promise<ZstdDecompressor> {
  const pipe = await makeNamedPipe(signal);
  const opened: number[] = [];
  let outputFd: number;
  let zstdWriteEnd: number;
  try {
    opened.push(openSync(pipe.path, constants.O_RDWR));
    outputFd = openSync(pipe.path, constants.O_RDONLY);
    opened.push(outputFd);
    zstdWriteEnd = openSync(pipe.path, constants.O_WRONLY);
    opened.push(zstdWriteEnd);
  } catch (error) {
    for (const fd of opened) closeSync(fd);
    throw error;
  } finally {
    await pipe.remove();
  }
  closeSync(opened[0]);
  try {
    // Node opens files close-on-exec: the child gets this descriptor as its stdout, and no other child
    // (spawned by other work meanwhile) inherits either end.
    const zstd = spawnZstd({ direction: 'decompress', input, output: zstdWriteEnd, signal });
    return { stdin: zstd.stdin, outputFd, exited: zstd.exited };
  } catch (error) {
    closeSync(outputFd);
    throw error;
  } finally {
    closeSync(zstdWriteEnd);
  }
}
