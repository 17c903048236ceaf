import type { ArchiveKeys } from '../../settings/archive-keys';
import type { DockerApi } from '../../engine/docker-api';
import type { Logger } from '../../shared/logger';
import { planFromEngine, quiesceTimeouts, type StopTimeouts } from '../../engine/plan-from-engine';
import { stopContainers } from '../../engine/stop-containers';
import type { StopJournal } from '../../engine/stop-journal';
import type { RestoreRecord } from '../../vocabulary/run-record';
import { killedContainersWarning, type ContainerStop } from '../../vocabulary/container-stop';
import type { ArchiveSource } from '../../targets/target-reader';
import type { VolumeOptions } from '../../vocabulary/volume-options';
import type { VolumeEncryption } from './archive-encryption';
import { resolvePoint } from './resolve-archive';
import { type RestoreSource } from '../../vocabulary/restore-source';
import { stageArchive } from './stage-archive';
import { removeTree } from '../../shared/remove-tree';

export interface RestoreDeps extends StopTimeouts {
  docker: DockerApi;
  journal: StopJournal;
  target: ArchiveSource;
  logger: Logger;
  /** The encryption settings; without them only plain archives can be restored. */
  keys?: ArchiveKeys;
  /** Setting RESTORE_SPECIAL_BITS: restore set-user-ID and set-group-ID bits. */
  keepSpecialBits?: boolean;
}

export interface RestoreRequest {
  volume: string;
  /** Undefined when the volume's options no longer parse: the default stop label is used. */
  options?: VolumeOptions;
  source: RestoreSource;
  /** The backup-encryption of the volume restored into and of the one the archive is from (archive-encryption.ts). */
  encryption: readonly VolumeEncryption[];
  stagingDir: string;
  /** Swaps the staged tree in place of the volume's data; returns the old tree (VolumeRegistry.swapInRestored). */
  swapIn(): Promise<string>;
  onProgress?: (progress: { archive: string; bytes: number; totalBytes: number }) => void;
}

/**
 * Restores an archive over a volume's content. The archive is extracted and checked while the volume's
 * containers still run (nothing of the volume is touched yet); only the swap happens while they are
 * stopped, so downtime is two renames, whatever the size. Which containers stop follows the backup's
 * rules, except that attached containers always stop: swapping the content under a running container
 * would leave it writing into the old tree.
 */
export async function restoreInPlace(deps: RestoreDeps, request: RestoreRequest): Promise<RestoreRecord> {
  const { docker, journal, target, logger } = deps;
  const { volume } = request;
  const startedAt = new Date();
  const record: RestoreRecord = { startedAt: startedAt.toISOString(), finishedAt: '', result: 'failed', durationMs: 0, stopped: [] };
  try {
    const links = await resolvePoint(target, request.source);
    const archive = links[links.length - 1];
    record.archive = archive.name;
    logger.info(`Restoring volume ${volume} from ${archive.name} (target ${target.name})`);
    const staged = await stageArchive(target, {
      sourceVolume: request.source.volume,
      archive,
      links,
      stagingDir: request.stagingDir,
      keys: deps.keys,
      keepSpecialBits: deps.keepSpecialBits,
      encryption: request.encryption,
      onProgress: (bytes) => request.onProgress?.({ archive: archive.name, bytes, totalBytes: chainBytes(links) }),
    });
    record.fileCount = staged.fileCount;

    let previous: string | undefined;
    try {
      const plan = await planFromEngine(docker, { volume, policy: 'attached', stopLabel: request.options?.stopLabel ?? 'true' });
      record.stopped = plan.stop.map((stop) => stop.name);
      record.scaled = plan.scale.map((scale) => scale.name);
      const stops: ContainerStop[] = [];
      const resume = await stopContainers({
        ...quiesceTimeouts(deps),
        docker,
        journal,
        volume,
        stops: plan.stop,
        scales: plan.scale,
        onStopped: (stop) => stops.push(stop),
        logger,
      });
      if (stops.length > 0) Object.assign(record, { stops, warning: killedContainersWarning(stops) });
      const stoppedAt = Date.now();
      try {
        previous = await request.swapIn();
      } finally {
        record.downtimeMs = plan.stop.length + plan.scale.length > 0 ? Date.now() - stoppedAt : undefined;
        await resume();
      }
    } finally {
      await removeTree(request.stagingDir);
    }
    // The old tree is deleted after the containers are back: it does not count as downtime.
    if (previous) await removeTree(previous);
    record.result = 'success';
    logger.info(`Restored volume ${volume} from ${archive.name} (${staged.fileCount} files, downtime ${record.downtimeMs ?? 0} ms)`);
  } catch (error) {
    record.error = (error as Error).message;
    logger.error(`Restore of volume ${volume} failed: ${record.error}`);
  }
  record.finishedAt = new Date().toISOString();
  record.durationMs = Date.now() - startedAt.getTime();
  return record;
}

function chainBytes(links: readonly { manifest: { bytes: number } }[]): number {
  return links.reduce((sum, link) => sum + link.manifest.bytes, 0);
}
