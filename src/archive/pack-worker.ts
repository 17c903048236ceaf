import { serveWorkerTask } from '../shared/worker-task';
import { FdSinkPool } from './fd-sink-pool';
import { packChanges, type ChainLink } from './pack-changes';
import { packTree, type PackTreeResult } from './pack-tree';
import { TarBatcher } from './tar-batcher';
import { TransferPool } from './transfer-pool';

/**
 * The packing worker's entry point (packVolume starts it).
 *
 * Why a worker: tar packing is thousands of small system calls (lstat, open, read, close per file).
 * Through the libuv threadpool each costs a round trip and ~15 µs of event-loop time, which made small
 * files the bottleneck (BENCHMARKS.md). In the worker they are plain blocking calls, as in GNU tar, and
 * the main thread only moves ~1 MiB batches (shared/worker-task.ts), given back for reuse once written:
 * memory is poolSize x batchBytes. When the tar stream goes to a pipe (zstd), the worker writes it there
 * itself and the main thread sees none of it.
 */
export interface PackSetup {
  root: string;
  exclude: readonly string[];
  batchBytes: number;
  poolSize: number;
  /** When set, the worker writes the stream to this descriptor itself (blocking) and sends no batches. */
  sinkFd?: number;
  /** When set, the archive is a link of an incremental chain (pack-changes.ts). */
  chain?: ChainLink;
}

serveWorkerTask<PackSetup, PackTreeResult>((setup, port) => {
  const pool = setup.sinkFd === undefined ? new TransferPool(port, setup) : new FdSinkPool(port, setup.batchBytes, setup.sinkFd);
  const tree = { root: setup.root, exclude: setup.exclude, batcher: new TarBatcher(pool) };
  return setup.chain ? packChanges({ ...tree, ...setup.chain }) : packTree(tree);
});
