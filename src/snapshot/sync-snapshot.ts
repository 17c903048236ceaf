import type { Snapshot, SnapshotRequest } from './snapshot';
import type { StagingLayout } from './staging-layout';
import { describeSyncStats, syncMirror } from './sync-mirror';
import { whileQuiesced } from './while-quiesced';

/**
 * Brings the kept mirror up to date while the containers run, then again while they are stopped, which
 * then copies only what changed in between: downtime is the time to find and copy that, not the volume's
 * size. A failure leaves a partly updated mirror, which the next run's quick check simply repairs.
 */
export async function syncSnapshot(request: SnapshotRequest, layout: StagingLayout): Promise<Snapshot> {
  const { source, exclude, logger } = request;
  logger?.info(`Refreshing the mirror of ${source} while the containers run`);
  const live = await syncMirror({ source, mirror: layout.mirror, exclude, sourceIsLive: true });
  logger?.info(`Refreshed the mirror of ${source}: ${describeSyncStats(live)}`);

  const { result: changes, downtimeMs } = await whileQuiesced(request.quiesce, () =>
    syncMirror({ source, mirror: layout.mirror, exclude }),
  );
  logger?.info(`Brought the mirror of ${source} up to date: ${describeSyncStats(changes)}; downtime ${downtimeMs} ms`);
  return {
    archiveRoot: layout.mirror,
    modeUsed: 'sync',
    downtimeMs,
    downtimeCopy: changes,
    release: async () => undefined,
  };
}
