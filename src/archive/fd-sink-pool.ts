import { writeSync } from 'node:fs';
import { PackStopped, STOP, type PackWorkerData } from './pack-worker-protocol';
import type { BatchPool } from './tar-batcher';

/**
 * Worker side when the tar stream goes to a pipe: each batch is written here with blocking writes, as GNU
 * tar does, so a full pipe is the backpressure and the main thread does nothing per batch. One buffer is
 * enough: it is free again as soon as ship() returns. Stopping: the main thread sets STOP, and kills the
 * reader, which turns a write blocked on a full pipe into EPIPE.
 */
export class FdSinkPool implements BatchPool {
  private readonly control: Int32Array;
  private readonly batch: Buffer;

  constructor(data: PackWorkerData, private readonly fd: number) {
    this.control = new Int32Array(data.control);
    this.batch = Buffer.allocUnsafe(data.batchBytes);
  }

  take(): Buffer {
    if (Atomics.load(this.control, STOP) !== 0) throw new PackStopped();
    return this.batch;
  }

  ship(batch: Buffer, length: number): void {
    for (let written = 0; written < length; ) written += writeSync(this.fd, batch, written, length - written);
  }
}
