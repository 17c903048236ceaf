import type { WriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** A writeback starts once this much more has been written since the last one began. */
const DEFAULT_EVERY_BYTES = 32 * 1024 * 1024;
/** How often the stream's bytesWritten is looked at: a check costs nothing measurable. */
const DEFAULT_POLL_MS = 100;

/** What is done with the descriptor of the file's own. */
export type SyncHandle = Pick<FileHandle, 'datasync' | 'sync' | 'close'>;

export interface WriteBehindOptions {
  everyBytes?: number;
  pollMs?: number;
  /** Opens that descriptor (read-only is enough for Linux to sync the file); tests observe with it. */
  openFile?: (path: string) => Promise<SyncHandle>;
}

const openReadOnly = (path: string): Promise<SyncHandle> => open(path, 'r');

export interface WriteBehind {
  /**
   * Stops the writebacks and makes the file durable (fsync): only what was written since the last
   * writeback is left to write. Rejects with a failed writeback's error, so none is lost.
   */
  sync(): Promise<void>;
  /** Stops the writebacks and lets the file go, durable or not (the upload is being abandoned). */
  stop(): Promise<void>;
}

/**
 * Writes the file back to its disk while it is still being written: every `everyBytes` appended, an
 * fdatasync on a descriptor of its own (the stream's may be closed under it) runs on the threadpool,
 * at most one at a time, and nothing waits for it. Without this, the kernel keeps a whole archive dirty
 * in the page cache until the final fsync, which then writes all of it while the run waits; with it,
 * the disk works while the archive is compressed, and the final fsync has only the last stretch left.
 * The stream is left as it is (no wrapper: see archive-output.ts); only its bytesWritten is read.
 */
export function startWriteBehind(stream: WriteStream, path: string, options: WriteBehindOptions = {}): WriteBehind {
  const everyBytes = options.everyBytes ?? DEFAULT_EVERY_BYTES;
  const openFile = options.openFile ?? openReadOnly;
  let handle: Promise<SyncHandle> | undefined;
  let inFlight: Promise<void> | undefined;
  let startedAt = 0;
  let failure: unknown;

  const check = (): void => {
    // Closed (written to the end, or abandoned by a failed run without a stop): nothing more to write back.
    if (stream.destroyed) {
      clearInterval(timer);
      return;
    }
    if (inFlight !== undefined || failure !== undefined || stream.bytesWritten - startedAt < everyBytes) return;
    startedAt = stream.bytesWritten;
    handle ??= openFile(path);
    inFlight = handle
      .then((file) => file.datasync())
      .catch((error: unknown) => {
        failure = error;
      })
      .finally(() => {
        inFlight = undefined;
      });
  };
  const timer = setInterval(check, options.pollMs ?? DEFAULT_POLL_MS);
  // A run never waits on this timer: it ends with the upload's commit or abort.
  timer.unref();

  const halt = async (): Promise<SyncHandle | undefined> => {
    clearInterval(timer);
    await inFlight;
    return handle?.catch((error: unknown) => {
      failure ??= error;
      return undefined;
    });
  };

  return {
    sync: async () => {
      const opened = await halt();
      const file = opened ?? (failure === undefined ? await openFile(path) : undefined);
      try {
        if (failure !== undefined || file === undefined) throw failure;
        // The file's own fsync, not fdatasync: its size and times are made durable too.
        await file.sync();
      } finally {
        await file?.close();
      }
    },
    stop: async () => {
      const opened = await halt();
      await opened?.close().catch(() => undefined);
    },
  };
}
