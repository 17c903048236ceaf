import type { TaskPort } from '../shared/worker-task';
import type { BatchPool } from './tar-batcher';

/**
 * Worker side of the batch hand-over: batches are sent to the main thread and come back once written;
 * take() blocks while all poolSize of them are away.
 */
export class TransferPool implements BatchPool {
  private existing = 0;

  constructor(
    private readonly port: TaskPort,
    private readonly sizes: { batchBytes: number; poolSize: number },
  ) {}

  take(): Buffer {
    this.port.throwIfStopped();
    const reused = this.port.takeReturn();
    if (reused) return Buffer.from(reused);
    if (this.existing < this.sizes.poolSize) {
      this.existing++;
      return Buffer.from(new ArrayBuffer(this.sizes.batchBytes));
    }
    return Buffer.from(this.port.waitForReturn());
  }

  ship(batch: Buffer, length: number): void {
    this.port.send(batch.buffer as ArrayBuffer, length);
  }
}
