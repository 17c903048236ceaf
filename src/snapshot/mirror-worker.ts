import { parentPort, workerData } from 'node:worker_threads';
import { walkMirror, type MirrorCounts, type MirrorWalkSetup } from './mirror-walk';

// The mirror worker's entry point; sync-mirror.ts says why the walk runs in a worker.

export type MirrorWorkerMessage =
  | { kind: 'done'; counts: MirrorCounts }
  | { kind: 'failed'; message: string; code?: string };

function run(): void {
  let message: MirrorWorkerMessage;
  try {
    message = { kind: 'done', counts: walkMirror(workerData as MirrorWalkSetup) };
  } catch (error) {
    message = { kind: 'failed', message: (error as Error).message, code: (error as NodeJS.ErrnoException).code };
  }
  parentPort?.postMessage(message);
}

if (parentPort) run();
