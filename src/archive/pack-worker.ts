import { parentPort, workerData } from 'node:worker_threads';
import { FdSinkPool } from './fd-sink-pool';
import { packTree } from './pack-tree';
import { PackStopped, type PackWorkerData, type PackWorkerMessage } from './pack-worker-protocol';
import { TarBatcher } from './tar-batcher';
import { TransferPool } from './transfer-pool';

// The packing worker's entry point; pack-worker-protocol.ts says why packing runs in a worker.

function run(): void {
  const data = workerData as PackWorkerData;
  let message: PackWorkerMessage;
  try {
    const pool = data.sinkFd === undefined ? new TransferPool(data) : new FdSinkPool(data, data.sinkFd);
    const { fileCount } = packTree({ root: data.root, exclude: data.exclude, batcher: new TarBatcher(pool) });
    message = { kind: 'done', fileCount };
  } catch (error) {
    if (error instanceof PackStopped) return;
    const { message: text, code, path } = error as NodeJS.ErrnoException;
    message = { kind: 'failed', message: text, code, path };
  }
  parentPort?.postMessage(message);
}

if (parentPort) run();
