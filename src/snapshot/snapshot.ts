import { performance } from 'node:perf_hooks';
import type { Logger } from '../shared/logger';
import type { PhaseTimer } from '../shared/phase-timer';
import type { RunPhase } from '../vocabulary/run-phases';
import type { Resume } from '../engine/stop-containers';
import type { SnapshotMode } from '../vocabulary/volume-options';
import type { SpaceProbes } from './check-room';
import type { StagingLayout } from './staging-layout';
import { describeSyncStats, startMirrorPasses, syncMirror, type SyncStats } from './sync-mirror';
import { removeTree } from '../shared/remove-tree';

export interface SnapshotRequest {
  mode: SnapshotMode;
  /** The volume's data directory. */
  source: string;
  /**
   * This volume's own staging folder, owned by the snapshot: it keeps the sync mirror between runs and
   * holds a copy while it is archived; anything else found in it is a leftover and is removed.
   */
  stagingDir: string;
  /** `backup-exclude`: left out of the staging tree (for direct, the archive step leaves them out). */
  exclude?: readonly string[];
  /** Stops what uses the volume and returns the function that starts exactly that again. */
  quiesce: () => Promise<Resume>;
  /**
   * The run's plan stops and scales nothing: sync then makes one pass, the one archived, and does not
   * quiesce (nothing is down, so a live pass first would only walk the volume twice).
   */
  nothingToStop?: boolean;
  logger?: Logger;
  /** How free space and reflink support are found out; tests inject their own. */
  probes?: SpaceProbes;
  /** Times the live pass, the stop, the stopped pass and the start. */
  timer?: PhaseTimer<RunPhase>;
}

/** A consistent tree to archive. Whatever happens to the archive, call release() once it is done with. */
export interface Snapshot {
  /** The tree to archive: the mirror (sync), the staging copy (copy) or the volume itself (direct). */
  archiveRoot: string;
  modeUsed: SnapshotMode;
  /** Set when sync or copy was asked for and direct was taken instead, saying why. */
  fellBackReason?: string;
  /** From asking the containers to stop until they run again; for direct, final once release() resolved. */
  readonly downtimeMs: number;
  /** What was copied while the containers were stopped (sync: the changes only; copy: everything). */
  downtimeCopy?: SyncStats;
  /**
   * direct: starts the containers again (they stay stopped while the caller archives). copy: deletes the
   * staging copy. sync: nothing, the mirror stays for the next run. Rejects when the restart fails.
   */
  release(): Promise<void>;
}

/**
 * sync: brings the kept mirror up to date while the containers run, then again while they are stopped,
 * which then copies only what changed in between: downtime is the time to find and copy that, not the
 * volume's size. A failure leaves a partly updated mirror, which the next run's quick check simply repairs.
 */
export async function syncSnapshot(request: SnapshotRequest, layout: StagingLayout): Promise<Snapshot> {
  const { source, exclude, logger } = request;
  if (request.nothingToStop) {
    // The pass the archive is made of: copies are stamped with their true mtimes (not a live pass's).
    const pass = await timed(request, 'live-pass', () => syncMirror({ source, mirror: layout.mirror, exclude }));
    logger?.info(`Brought the mirror of ${source} up to date, nothing to stop: ${describeSyncStats(pass)}`);
    return { archiveRoot: layout.mirror, modeUsed: 'sync', downtimeMs: 0, release: async () => undefined };
  }
  logger?.info(`Refreshing the mirror of ${source} while the containers run`);
  const passes = await startMirrorPasses({ source, mirror: layout.mirror, exclude });
  const quiesced = (async () => {
    const live = await timed(request, 'live-pass', () => passes.live());
    logger?.info(`Refreshed the mirror of ${source}: ${describeSyncStats(live)}`);
    return whileQuiesced(request, () => passes.stopped());
  })();
  // A failed live pass or stop leaves the worker waiting for a go that never comes: it is ended.
  const { result: changes, downtimeMs } = await quiesced.finally(() => passes.cancel());
  logger?.info(`Brought the mirror of ${source} up to date: ${describeSyncStats(changes)}; downtime ${downtimeMs} ms`);
  return { archiveRoot: layout.mirror, modeUsed: 'sync', downtimeMs, downtimeCopy: changes, release: async () => undefined };
}

/** copy: copies the whole volume into a fresh staging tree while the containers are stopped. */
export async function copySnapshot(request: SnapshotRequest, layout: StagingLayout): Promise<Snapshot> {
  const { source, exclude, logger } = request;
  const removeCopy = () => removeTree(layout.copy);
  try {
    logger?.info(`Copying ${source} to ${layout.copy} while the containers are stopped`);
    const { result: copied, downtimeMs } = await whileQuiesced(request, () => syncMirror({ source, mirror: layout.copy, exclude }));
    logger?.info(`Copied ${source}: ${describeSyncStats(copied)}; downtime ${downtimeMs} ms`);
    return { archiveRoot: layout.copy, modeUsed: 'copy', downtimeMs, downtimeCopy: copied, release: removeCopy };
  } catch (error) {
    // The failure is what the caller must hear about; a half copy left behind is removed at the next run.
    await removeCopy().catch(() => undefined);
    throw error;
  }
}

/** direct: stops the containers and hands over the volume itself; release() starts them once it is archived. */
export async function directSnapshot(request: SnapshotRequest, fallback?: { reason: string }): Promise<Snapshot> {
  const stoppingAt = performance.now();
  const resume = await timed(request, 'stop', request.quiesce);
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
      released ??= timed(request, 'start', resume).finally(() => {
        downtimeMs = Math.round(performance.now() - stoppingAt);
      });
      return released;
    },
  };
}

/**
 * Runs `work` with the containers stopped and starts them again whatever happened. Downtime runs from
 * asking them to stop until they are started again. A failing restart never hides the failure of the work:
 * both end up in the one error thrown.
 */
async function whileQuiesced<T>(request: SnapshotRequest, work: () => Promise<T>): Promise<{ result: T; downtimeMs: number }> {
  const stoppingAt = performance.now();
  const resume = await timed(request, 'stop', request.quiesce);
  const start = () => timed(request, 'start', resume);
  let result: T;
  try {
    result = await timed(request, 'stopped-pass', work);
  } catch (failure) {
    try {
      await start();
    } catch (resumeError) {
      throw new Error(`${(failure as Error).message}; starting the containers again failed too: ${(resumeError as Error).message}`, { cause: failure });
    }
    throw failure;
  }
  await start();
  return { result, downtimeMs: Math.round(performance.now() - stoppingAt) };
}

export function timed<T>(request: SnapshotRequest, phase: RunPhase, work: () => Promise<T>): Promise<T> {
  return request.timer ? request.timer.time(phase, work) : work();
}
