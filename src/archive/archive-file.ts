import { constants, openSync, read, ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { DigestStream } from './digest-stream';

const readAt = promisify(read);

/** What a ReadStream holds at run time beyond its typings (lib/internal/fs/streams.js). */
type OpenedReadStream = ReadStream & { fd?: unknown; start?: number; end?: number };

/**
 * The descriptor of the file behind stream when stream is an opened `fs.ReadStream` that will read the
 * whole file (no start or end, nothing read yet), else undefined. Only a local file can be handed to a
 * decompressor to read itself (piped-decompressor.ts): any other stream's bytes exist only as its chunks.
 */
export function openedFileBehind(stream: Readable): number | undefined {
  if (!(stream instanceof ReadStream) || stream.destroyed) return undefined;
  const { fd, start, end, bytesRead } = stream as OpenedReadStream;
  const wholeFile = (start === undefined || start === 0) && end === Number.POSITIVE_INFINITY && bytesRead === 0;
  return typeof fd === 'number' && wholeFile ? fd : undefined;
}

/**
 * A new descriptor of the file `fd` is open on, read-only, with an open file description (file offset) of
 * its own: a child reading it and the stream reading `fd` each go at their own pace (a dup would share
 * the offset). On Linux /proc/self/fd/N opens the same inode, even once the file was renamed or removed.
 */
export function reopenForReading(fd: number): number {
  return openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY);
}

/**
 * Hashes the whole file `fd` is open on into digest, with positional reads (the descriptor's offset is
 * left alone) into one buffer reused for every read: no stream, and no garbage for the GC to chase
 * (see gc-pacer.ts). Stops at the next read once signal aborts.
 */
export async function digestFile(fd: number, digest: DigestStream, chunkBytes: number, signal: AbortSignal): Promise<void> {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  for (let position = 0; ; ) {
    signal.throwIfAborted();
    const { bytesRead } = await readAt(fd, buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    digest.observe(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}
