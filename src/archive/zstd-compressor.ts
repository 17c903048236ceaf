import { close, closeSync, constants, open, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { makeNamedPipe } from './named-pipe';
import { spawnCodec } from './codec-process';

const openAsync = promisify(open);
const closeAsync = promisify(close);

export interface ZstdCompressor {
  /** Blocking write end of the pipe zstd reads: the packing worker writes the tar stream to it itself. */
  inputFd: number;
  stdout: Readable;
  /** Resolves when zstd exited with 0 (see spawnCodec). */
  exited: Promise<void>;
  /** Closes inputFd (zstd sees the end of its input) and removes the pipe. Call once the writer stopped. */
  close(): Promise<void>;
}

/**
 * Starts `zstd -3 -T0` reading a named pipe. Why not its stdin: Node gives a child's stdin as a
 * non-blocking socket owned by the event loop, so the tar stream would have to cross to the main thread
 * and be written from there, ~25% more CPU than GNU tar writing to a pipe (BENCHMARKS.md). A FIFO opened
 * here in blocking mode lets the packing worker write to zstd directly, as `tar | zstd` does.
 */
export async function startZstdCompressor(signal: AbortSignal): Promise<ZstdCompressor> {
  const pipe = await makeNamedPipe(signal);
  const fifo = pipe.path;
  try {
    const zstd = spawnCodec({ codec: 'zstd', direction: 'compress', input: fifo, signal });
    const inputFd = await openWriteEnd(fifo, zstd.exited);
    let closed = false;
    return {
      inputFd,
      stdout: zstd.stdout as Readable,
      exited: zstd.exited,
      close: async () => {
        if (closed) return;
        closed = true;
        await closeAsync(inputFd);
        await pipe.remove();
      },
    };
  } catch (error) {
    await pipe.remove();
    throw error;
  }
}

/**
 * Opens the FIFO for writing, which waits for zstd to open it for reading. If zstd fails before that, a
 * read end opened here releases the wait (kept open until the open returned, so it cannot be missed),
 * and zstd's error is thrown.
 */
async function openWriteEnd(fifo: string, zstdExited: Promise<void>): Promise<number> {
  let writerOpened = false;
  let rescue: number | undefined;
  zstdExited.catch(() => {
    if (writerOpened) return; // the worker's writes fail with EPIPE instead
    try {
      rescue = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      // The FIFO is gone: nothing can be waiting on it.
    }
  });
  const fd = await openAsync(fifo, constants.O_WRONLY);
  writerOpened = true;
  if (rescue === undefined) return fd;
  closeSync(rescue);
  closeSync(fd);
  await zstdExited;
  throw new Error('zstd exited before reading its input');
}
