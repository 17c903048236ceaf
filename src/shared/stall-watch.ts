import { Writable } from 'node:stream';

/**
 * A deadline that moves with progress: `stalled` rejects once `progress()` has not been called for `ms`.
 * Whole operations (a listing of many manifests, an upload) may take as long as they keep moving; only
 * silence fails them, which is what a server that accepted the connection and then went quiet looks like.
 */
export class StallWatch {
  readonly stalled: Promise<never>;
  private fail: (error: Error) => void = () => undefined;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly ms: number,
    /** What was being waited for when the watch fires, read then (it may change as the work goes on). */
    private readonly describe: () => string,
  ) {
    this.stalled = new Promise<never>((_resolve, reject) => (this.fail = reject));
    // Nobody may be racing against it when it fires (stop() came late): that is not an unhandled rejection.
    this.stalled.catch(() => undefined);
    this.progress();
  }

  progress(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fail(new Error(this.describe())), this.ms);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The work's outcome, or the stall's error when it fell silent first. The watch ends either way. */
  async bound<T>(work: Promise<T>): Promise<T> {
    try {
      return await Promise.race([work, this.stalled]);
    } finally {
      this.stop();
    }
  }
}

/**
 * Runs work under a StallWatch it can report progress to; when it falls silent for `ms`, rejects with an
 * error saying what it was doing (describe(): what and which setting). The work itself is not cancelled (no library call can be): what it
 * holds is the caller's to close, e.g. by destroying the stream that hung.
 */
export function withinStall<T>(ms: number, describe: () => string, work: (watch: StallWatch) => Promise<T>): Promise<T> {
  const watch = new StallWatch(ms, describe);
  return watch.bound(work(watch));
}

/**
 * A Writable in front of `inner` that fails (and destroys inner) when inner holds data it does not take
 * for `ms`: a write that waits for 'drain', or the end that waits for 'finish', longer than that. Waiting
 * for the producer is never a stall: only data that was offered and not taken counts, so a slow volume
 * (compressing a large file) never trips it, a server that stopped reading always does.
 */
export class StallGuardStream extends Writable {
  private watch?: StallWatch;
  private pending?: (error?: Error | null) => void;
  private readonly taken = () => this.settle(null);

  constructor(
    private readonly inner: Writable,
    private readonly ms: number,
    /** Says what hung, e.g. `no progress for 60 s while uploading X (TRANSFER_STALL_TIMEOUT)`. */
    private readonly describe: () => string,
  ) {
    super();
    inner.on('error', (error: Error) => this.settle(error));
    // Some streams (ssh2's) close their handle in _final: 'close' after end() without an error is a finish.
    inner.on('close', () => this.settle(inner.writableEnded && !inner.errored ? null : new Error('the upload stream closed early')));
  }

  /**
   * Progress that inner's own stream cannot show: a library that buffers a part and uploads it calls
   * this when the server confirmed the part, and the wait for room goes on.
   */
  progress(): void {
    this.watch?.progress();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) return callback(this.inner.errored ?? new Error('the upload stream closed early'));
    if (this.inner.write(chunk)) return callback();
    this.await(callback);
    this.inner.once('drain', this.taken);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.await(callback);
    this.inner.once('finish', this.taken);
    this.inner.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.watch?.stop();
    this.pending = undefined;
    // Once finished (and so auto-destroyed), inner is left alone: a library may still be reading the last
    // of it (S3 buffers parts), and destroying it would cut the upload short.
    if ((error || !this.writableFinished) && !this.inner.destroyed) this.inner.destroy(error ?? undefined);
    callback(error);
  }

  private await(callback: (error?: Error | null) => void): void {
    this.pending = callback;
    this.watch = new StallWatch(this.ms, this.describe);
    this.watch.stalled.catch((error: Error) => this.settle(error));
  }

  /** Ends the wait in progress, if any: null when inner took the data, the error when it did not. */
  private settle(error: Error | null): void {
    const callback = this.pending;
    if (!callback) return;
    this.pending = undefined;
    this.watch?.stop();
    this.inner.off('drain', this.taken).off('finish', this.taken);
    callback(error);
  }
}
