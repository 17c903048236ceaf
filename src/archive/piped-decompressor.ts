import { closeSync, constants, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { reopenForReading } from './archive-file';
import { makeNamedPipe } from './named-pipe';
import { spawnCodec, type ExternalCodec } from './codec-process';

export interface PipedDecompressor {
  /** The program's stdin: the archive's bytes as stored. null when it reads the archive's file itself. */
  stdin: Writable | null;
  /**
   * Blocking read end of the pipe the program writes the tar stream to: a worker reads it itself with
   * readSync. The program holds the only write end, so reads see the end of the stream (0) once it
   * exited, whether it finished, failed or was killed: a blocked reader is always released. The caller closes it, once
   * nothing reads it any more.
   */
  outputFd: number;
  /** Resolves when the program exited with 0 (see spawnCodec). */
  exited: Promise<void>;
}

/**
 * Starts `zstd -d` or `unpigz` (codec-process.ts) writing into a named pipe: archiving's zstd-compressor.ts
 * the other way round. Through its stdout (a non-blocking socket owned by the event loop) every
 * decompressed chunk would cross the main thread on its way to the extraction worker, ~1.4 s of CPU for
 * 700 MB (BENCHMARKS.md).
 *
 * The pipe is opened here, without waiting on anyone (Linux opens a FIFO for reading and writing at once;
 * that first descriptor only lets the other two opens return), then removed from the filesystem before
 * the program starts: nothing of it outlives this call but the two descriptors, whatever happens next.
 *
 * With `inputFile` (the descriptor of the archive's local file, see archive-file.ts), it reads the file
 * itself, through a descriptor of its own, instead of every chunk crossing the main thread into its stdin
 * (~0.3 s of main-thread CPU for a 360 MB archive); the caller still reads the file, to hash it.
 */
export async function startPipedDecompressor(codec: ExternalCodec, signal: AbortSignal, inputFile?: number): Promise<PipedDecompressor> {
  // Before any await: the stream that owns inputFile may close it (and the number be reused) meanwhile.
  const input = inputFile === undefined ? undefined : reopenForReading(inputFile);
  try {
    return await startWithInput(codec, signal, input);
  } finally {
    // The program has its own copy (or never started).
    if (input !== undefined) closeSync(input);
  }
}

async function startWithInput(codec: ExternalCodec, signal: AbortSignal, input: number | undefined): Promise<PipedDecompressor> {
  const pipe = await makeNamedPipe(signal);
  const opened: number[] = [];
  let outputFd: number;
  let programWriteEnd: number;
  try {
    opened.push(openSync(pipe.path, constants.O_RDWR));
    outputFd = openSync(pipe.path, constants.O_RDONLY);
    opened.push(outputFd);
    programWriteEnd = openSync(pipe.path, constants.O_WRONLY);
    opened.push(programWriteEnd);
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
    const program = spawnCodec({ codec, direction: 'decompress', input, output: programWriteEnd, signal });
    return { stdin: program.stdin, outputFd, exited: program.exited };
  } catch (error) {
    closeSync(outputFd);
    throw error;
  } finally {
    closeSync(programWriteEnd);
  }
}
