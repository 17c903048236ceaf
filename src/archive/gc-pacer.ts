import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type CollectGarbage = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

let collectGarbage: CollectGarbage | undefined;
/** External memory growth (over what a full collection left) that warrants another full collection. */
const FULL_AFTER_EXTERNAL_GROWTH = 16 * 1024 * 1024;

/** The interval every user of the pacer takes, measured with `npm run bench` (BENCHMARKS.md). */
const DEFAULT_INTERVAL_BYTES = 4 * 1024 * 1024;

/**
 * Returns a function to call with the size of each chunk that went by; every `intervalBytes` it runs a
 * minor (young generation) garbage collection, and a full one when buffer memory still grew by 16 MiB
 * since the last full one: chunks an output held across two minor collections (a slow disk) have been
 * promoted, and only a full collection frees them.
 *
 * Why: an archive moves gigabytes through short-lived Buffers whose memory lives outside the V8 heap. V8
 * schedules collections by heap allocation, and a stream allocates almost nothing on the heap per MiB
 * moved, so dead Buffers pile up until V8's external-memory limit (~64 MiB over the last collection)
 * forces a full GC: measured, that is +45 to +90 MiB of RSS for nothing. A scavenge every few MiB costs
 * well under a millisecond with the small young generation of this process and keeps RSS flat.
 * `gc` is exposed the way Node's own tests do it; if the process was started with --expose-gc, that is used.
 */
export function createGcPacer(intervalBytes = DEFAULT_INTERVAL_BYTES): (chunkBytes: number) => void {
  const collect = exposedGc();
  let sinceLast = 0;
  let afterFull = getHeapStatistics().external_memory;
  return (chunkBytes) => {
    sinceLast += chunkBytes;
    if (sinceLast < intervalBytes) return;
    sinceLast = 0;
    collect({ type: 'minor', execution: 'sync' });
    if (getHeapStatistics().external_memory - afterFull < FULL_AFTER_EXTERNAL_GROWTH) return;
    collect({ type: 'major', execution: 'sync' });
    afterFull = getHeapStatistics().external_memory;
  };
}

function exposedGc(): CollectGarbage {
  if (collectGarbage) return collectGarbage;
  const existing = (globalThis as { gc?: CollectGarbage }).gc;
  if (typeof existing === 'function') {
    collectGarbage = existing;
  } else {
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as CollectGarbage;
  }
  return collectGarbage;
}
