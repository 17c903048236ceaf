import { Writable } from 'node:stream';
import type { WorkerTask } from '../shared/worker-task';

export interface BatchTuning {
  /** Size of a batch (and of the extraction worker's reads of zstd's pipe). */
  batchBytes: number;
  /** Batches in existence: writes wait while all of them are with the worker. */
  poolSize: number;
}

/**
 * 1 MiB batches measured no faster than 256 KiB (3 interleaved pairs, same CPU) and peaked up to 131 MiB
 * RSS against 100-106; far smaller ones bring back the per-message cost.
 */
export const DEFAULT_BATCH_TUNING: BatchTuning = { batchBytes: 256 * 1024, poolSize: 4 };

/** The tuning to use (the default when none is given); throws when it cannot work. */
export function batchTuning(tuning: BatchTuning = DEFAULT_BATCH_TUNING): BatchTuning {
  if (!(Number.isInteger(tuning.batchBytes) && tuning.batchBytes > 0)) throw new Error('batchBytes must be a positive integer');
  if (!(tuning.poolSize >= 1)) throw new Error('poolSize must be at least 1');
  return tuning;
}

/**
 * The extraction worker as a Writable: what is written is copied into pooled batches, each sent to the
 * worker when full and reused when it comes back (shared/worker-task.ts). The pool is the only buffer
 * memory, whatever the archive's size. Ends once the worker reported its result; destroyed with its
 * failure.
 * A batch can be handed back and filled again as soon as the worker's TarReader returned: it keeps no
 * view of it (a header split across two batches is copied).
 */
export class BatchSink extends Writable {
  private readonly free: ArrayBuffer[] = [];
  private allocated = 0;
  private batch: Buffer | undefined;
  private filled = 0;
  private resumeWrite: (() => void) | undefined;
  private finishEnd: (() => void) | undefined;

  constructor(
    private readonly task: WorkerTask<unknown>,
    /** Checked by batchTuning(). */
    private readonly tuning: BatchTuning,
  ) {
    super();
    task.receive({
      returned: (buffer) => {
        this.free.push(buffer);
        const resume = this.resumeWrite;
        this.resumeWrite = undefined;
        resume?.();
      },
    });
    task.outcome.then(
      () => this.finishEnd?.(),
      (error: Error) => this.destroy(error),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.copyIn(chunk, 0, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.filled > 0) this.ship();
    this.finishEnd = () => callback();
    this.task.end();
  }

  /** Copies chunk from offset on, shipping each batch it fills; waits for a batch to come back if none is free. */
  private copyIn(chunk: Buffer, from: number, callback: (error?: Error | null) => void): void {
    for (let offset = from; offset < chunk.length; ) {
      if (!this.batch) {
        const buffer = this.take();
        if (!buffer) {
          this.resumeWrite = () => this.copyIn(chunk, offset, callback);
          return;
        }
        this.batch = Buffer.from(buffer);
        this.filled = 0;
      }
      const copied = chunk.copy(this.batch, this.filled, offset);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.batch.length) this.ship();
    }
    callback();
  }

  private take(): ArrayBuffer | undefined {
    const reused = this.free.pop();
    if (reused) return reused;
    if (this.allocated >= this.tuning.poolSize) return undefined;
    this.allocated++;
    return new ArrayBuffer(this.tuning.batchBytes);
  }

  private ship(): void {
    const buffer = (this.batch as Buffer).buffer as ArrayBuffer;
    this.task.send(buffer, this.filled);
    this.batch = undefined;
    this.filled = 0;
  }
}
