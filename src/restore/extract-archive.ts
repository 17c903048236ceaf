import { join } from 'node:path';
import { Writable, type Duplex, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { decompressInto } from '../archive/decompress';
import { DigestStream } from '../archive/digest-stream';
import { settleAll } from '../archive/settle-all';
import type { Compression } from '../volumes/volume-options';
import type { ExtractReply, ExtractRequest, ExtractWorkerData } from './extract-worker-protocol';

/** Chunks posted to the worker and not yet written: enough to keep both threads busy, little memory. */
const IN_FLIGHT = 4;

export interface ExtractOptions {
  /** The archive's bytes, as stored (compressed, maybe encrypted). */
  input: Readable;
  compression: Compression;
  /** For an encrypted archive: its decrypting stage, after the digest (sha256 is of the stored bytes). */
  decrypt?: Duplex;
  /** An empty directory that receives the tree; on failure the caller deletes it. */
  destination: string;
  /** Content bytes the destination can take (see TreeWriter). */
  roomBytes?: number;
  /** Told the number of archive bytes read so far, for a progress line. */
  onProgress?: (archiveBytes: number) => void;
  signal?: AbortSignal;
}

export interface ExtractResult {
  /** sha256 and size of the archive bytes read: the caller compares them with the manifest. */
  sha256: string;
  bytes: number;
  entryCount: number;
  fileCount: number;
  contentBytes: number;
}

/**
 * Extracts an archive into destination: the main thread reads, hashes and decompresses, the worker checks
 * every entry (EntryGuard) and writes it (TreeWriter). Rejects on the first unsafe entry, corrupt byte or
 * write error, once the worker and any zstd process have stopped.
 */
export async function extractArchive(options: ExtractOptions): Promise<ExtractResult> {
  options.signal?.throwIfAborted();
  const teardown = new AbortController();
  const forwardAbort = () => teardown.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  const digest = new DigestStream(options.onProgress ? () => options.onProgress?.(digest.bytes) : undefined);
  const workerData: ExtractWorkerData = { destination: options.destination, roomBytes: options.roomBytes ?? Number.POSITIVE_INFINITY };
  const worker = new Worker(join(__dirname, 'extract-worker.js'), { workerData });
  const sink = new WorkerSink(worker, teardown.signal);
  try {
    const read = pipeline(options.input, digest, { signal: teardown.signal });
    await settleAll([read, ...decompressInto(digest, options.compression, sink, teardown.signal, options.decrypt), sink.done], teardown);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
    options.input.destroy();
    await worker.terminate();
  }
  const totals = await sink.done;
  return { sha256: digest.sha256(), bytes: digest.bytes, ...totals };
}

type Totals = Pick<ExtractResult, 'entryCount' | 'fileCount' | 'contentBytes'>;

/** The worker as a Writable: a write completes as soon as fewer than IN_FLIGHT chunks wait for it. */
class WorkerSink extends Writable {
  readonly done: Promise<Totals>;
  private inFlight = 0;
  private resumeWrites: (() => void) | undefined;
  private finishEnd: (() => void) | undefined;

  constructor(
    private readonly worker: Worker,
    signal: AbortSignal,
  ) {
    super();
    this.done = new Promise<Totals>((resolve, reject) => {
      // Another step failed: the worker waits for chunks that will never come.
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      worker.on('message', (reply: ExtractReply) => {
        if (reply.kind === 'ack') {
          this.inFlight--;
          const resume = this.resumeWrites;
          this.resumeWrites = undefined;
          resume?.();
        } else if (reply.kind === 'done') {
          resolve(reply);
          this.finishEnd?.();
        } else {
          const error = Object.assign(new Error(reply.message), { code: reply.code });
          reject(error);
          this.destroy(error);
        }
      });
      worker.once('error', (error) => {
        reject(error);
        this.destroy(error);
      });
      worker.once('exit', (code) => reject(new Error(`the extraction worker stopped (exit code ${code})`)));
    });
    // Observed here; extractArchive awaits it.
    this.done.catch(() => undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.post({ kind: 'chunk', chunk });
    this.inFlight++;
    if (this.inFlight < IN_FLIGHT) callback();
    else this.resumeWrites = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finishEnd = () => callback();
    this.post({ kind: 'end' });
  }

  private post(request: ExtractRequest): void {
    this.worker.postMessage(request);
  }
}
