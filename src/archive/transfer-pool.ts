import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { PackStopped, STOP, WAITING, WAKE, type PackWorkerData, type PackWorkerMessage } from './pack-worker-protocol';
import type { BatchPool } from './tar-batcher';

/**
 * Worker side of the batch hand-over: batches are transferred to the main thread and come back once
 * written; take() blocks (Atomics.wait) while all poolSize of them are away.
 */
export class TransferPool implements BatchPool {
  private readonly control: Int32Array;
  private readonly free: ArrayBuffer[] = [];
  private existing = 0;

  constructor(private readonly data: PackWorkerData) {
    this.control = new Int32Array(data.control);
  }

  take(): Buffer {
    for (;;) {
      // Read before looking at the port: a return posted after this makes the wait below return at once.
      const seen = Atomics.load(this.control, WAKE);
      if (Atomics.load(this.control, STOP) !== 0) throw new PackStopped();
      for (let message = receiveMessageOnPort(this.data.returns); message; message = receiveMessageOnPort(this.data.returns)) {
        this.free.push((message.message as { buffer: ArrayBuffer }).buffer);
      }
      const reused = this.free.pop();
      if (reused) return Buffer.from(reused);
      if (this.existing < this.data.poolSize) {
        this.existing++;
        return Buffer.from(new ArrayBuffer(this.data.batchBytes));
      }
      Atomics.store(this.control, WAITING, 1);
      // A return posted before WAITING was set changed WAKE since `seen`: the wait then returns at once.
      Atomics.wait(this.control, WAKE, seen);
      Atomics.store(this.control, WAITING, 0);
    }
  }

  ship(batch: Buffer, length: number): void {
    const message: PackWorkerMessage = { kind: 'batch', buffer: batch.buffer as ArrayBuffer, length };
    parentPort?.postMessage(message, [batch.buffer as ArrayBuffer]);
  }
}
