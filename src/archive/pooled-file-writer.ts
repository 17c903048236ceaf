import type { WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

export interface PooledFileWriterOptions {
  /** Size of each buffer, so of each write to the file (but the last). */
  bufferBytes?: number;
  /** Buffers in existence: a write waits while all of them are being written. */
  poolSize?: number;
}

/**
 * The last stage before a local file (see archive-output.ts): chunks are copied into a few fixed
 * buffers, each written to the file once full and reused as soon as its write callback ran. The chunks
 * themselves (zlib's or zstd's output) are dropped as soon as they are copied, while still young, instead
 * of living on until their write completed (possibly promoted by then, and only freed by a full GC): no
 * garbage outlives the copy, and the file sees few large writes (each costs a threadpool round trip).
 * Ends the file after the last byte; destroying this destroys the file.
 */
export class PooledFileWriter extends Writable {
  private readonly bufferBytes: number;
  private readonly poolSize: number;
  private readonly free: Buffer[] = [];
  private created = 0;
  private current: Buffer | undefined;
  private filled = 0;
  /** A write waiting for a buffer to come back. */
  private waiting: (() => void) | undefined;

  constructor(
    private readonly file: WriteStream,
    options: PooledFileWriterOptions = {},
  ) {
    super();
    this.bufferBytes = options.bufferBytes ?? 512 * 1024;
    this.poolSize = options.poolSize ?? 3;
    file.on('error', (error) => this.destroy(error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let offset = 0;
    const copy = (): void => {
      while (offset < chunk.length) {
        if (this.current === undefined) {
          this.current = this.take();
          this.filled = 0;
          if (this.current === undefined) {
            this.waiting = copy;
            return;
          }
        }
        const copied = chunk.copy(this.current, this.filled, offset);
        this.filled += copied;
        offset += copied;
        if (this.filled === this.current.length) this.writeCurrent();
      }
      callback();
    };
    copy();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.current !== undefined && this.filled > 0) this.writeCurrent();
    this.file.end();
    finished(this.file, { readable: false }).then(
      () => callback(),
      (error: Error) => callback(this.file.errored ?? error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.waiting = undefined;
    this.file.destroy();
    callback(error);
  }

  private take(): Buffer | undefined {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.created === this.poolSize) return undefined;
    this.created++;
    return Buffer.allocUnsafe(this.bufferBytes);
  }

  private writeCurrent(): void {
    const buffer = this.current as Buffer;
    const length = this.filled;
    this.current = undefined;
    this.filled = 0;
    this.file.write(buffer.subarray(0, length), (error) => {
      if (error) {
        // A file destroyed with a reason fails later writes with ERR_STREAM_DESTROYED: the reason says why.
        this.destroy(this.file.errored ?? error);
        return;
      }
      this.free.push(buffer);
      const resume = this.waiting;
      this.waiting = undefined;
      resume?.();
    });
  }
}
