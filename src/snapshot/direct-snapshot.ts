import { performance } from 'node:perf_hooks';
import type { Snapshot, SnapshotRequest } from './snapshot';

/** Stops the containers and hands over the volume itself; release() starts them once it is archived. */
export async function directSnapshot(request: SnapshotRequest, fallback?: { reason: string }): Promise<Snapshot> {
  const stoppingAt = performance.now();
  const resume = await request.quiesce();
  let downtimeMs: number | undefined;
  let released: Promise<void> | undefined;
  return {
    archiveRoot: request.source,
    modeUsed: 'direct',
    fellBackReason: fallback?.reason,
    get downtimeMs() {
      return downtimeMs ?? Math.round(performance.now() - stoppingAt);
    },
    // Once only: a second call must not start the containers twice.
    release() {
      released ??= resume().finally(() => {
        downtimeMs = Math.round(performance.now() - stoppingAt);
      });
      return released;
    },
  };
}
