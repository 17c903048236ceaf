import { writeSync } from 'node:fs';
import type { TaskPort } from '../shared/worker-task';
import type { BatchPool } from './tar-batcher';

/**
 * Worker side when the tar stream goes to a pipe: each batch is written here with blocking writes, as GNU
 * tar does, so a full pipe is the backpressure and the main thread does nothing per batch. One buffer is
 * enough: it is free again as soon as ship() returns. Stopping: the main thread raises the task's stop
 * flag, and kills the reader, which turns a write blocked on a full pipe into EPIPE.
 */
export class FdSinkPool implements BatchPool {
  private readonly batch: Buffer;

  constructor(
    private readonly port: TaskPort,
    batchBytes: number,
    private readonly fd: number,
  ) {
    this.batch = Buffer.allocUnsafe(batchBytes);
  }

  take(): Buffer {
    this.port.throwIfStopped();
    return this.batch;
  }

  ship(batch: Buffer, length: number): void {
    for (let written = 0; written < length; ) written += writeSync(this.fd, batch, written, length - written);
  }
}
