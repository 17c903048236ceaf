import type { Worker } from 'node:worker_threads';
import type { ExtractReply } from './extract-worker-protocol';

export interface ExtractTotals {
  entryCount: number;
  fileCount: number;
  contentBytes: number;
}

/** A failure of the worker; streamEnded as in ExtractReply. */
export type ExtractWorkerError = Error & { code?: string; streamEnded?: boolean };

export interface OutcomeHandlers {
  /** A batch the worker is done with (batch-sink.ts). */
  consumed?: (buffer: ArrayBuffer) => void;
  done?: () => void;
  /** The worker refused an entry, failed to write or stopped. */
  failed?: (error: Error) => void;
}

/**
 * What the extraction worker reports: its totals once it wrote the whole stream, or why it failed.
 * Rejects too when `signal` aborts (another step failed: the worker waits for data that will never come).
 */
export function watchExtractWorker(worker: Worker, signal: AbortSignal, handlers: OutcomeHandlers = {}): Promise<ExtractTotals> {
  const outcome = new Promise<ExtractTotals>((resolve, reject) => {
    const failed = (error: Error) => {
      reject(error);
      handlers.failed?.(error);
    };
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    worker.on('message', (reply: ExtractReply) => {
      if (reply.kind === 'consumed') {
        handlers.consumed?.(reply.buffer);
      } else if (reply.kind === 'done') {
        resolve({ entryCount: reply.entryCount, fileCount: reply.fileCount, contentBytes: reply.contentBytes });
        handlers.done?.();
      } else {
        failed(Object.assign(new Error(reply.message), { code: reply.code, streamEnded: reply.streamEnded }));
      }
    });
    worker.once('error', failed);
    worker.once('exit', (code) => reject(new Error(`the extraction worker stopped (exit code ${code})`)));
  });
  // Observed here; extractArchive awaits it.
  outcome.catch(() => undefined);
  return outcome;
}
