import { rm } from 'node:fs/promises';
import type { Snapshot, SnapshotRequest } from './snapshot';
import type { StagingLayout } from './staging-layout';
import { describeSyncStats, syncMirror } from './sync-mirror';
import { whileQuiesced } from './while-quiesced';

/** Copies the whole volume into a fresh staging tree while the containers are stopped. */
export async function copySnapshot(request: SnapshotRequest, layout: StagingLayout): Promise<Snapshot> {
  const { source, exclude, logger } = request;
  const removeCopy = () => rm(layout.copy, { recursive: true, force: true });
  try {
    logger?.info(`Copying ${source} to ${layout.copy} while the containers are stopped`);
    const { result: copied, downtimeMs } = await whileQuiesced(request.quiesce, () =>
      syncMirror({ source, mirror: layout.copy, exclude }),
    );
    logger?.info(`Copied ${source}: ${describeSyncStats(copied)}; downtime ${downtimeMs} ms`);
    return { archiveRoot: layout.copy, modeUsed: 'copy', downtimeMs, downtimeCopy: copied, release: removeCopy };
  } catch (error) {
    // The failure is what the caller must hear about; a half copy left behind is removed at the next run.
    await removeCopy().catch(() => undefined);
    throw error;
  }
}
