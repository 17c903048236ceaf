import { createArchive } from '../archive/create-archive';
import { encryptionStage } from '../crypto/archive-cipher';
import { missingKeySetting, NO_KEYS, type ArchiveKeys } from '../crypto/archive-keys';
import type { DockerApi } from '../docker/docker-api';
import type { Logger } from '../logging/logger';
import { planQuiesce } from '../quiesce/plan-quiesce';
import { runLabelCommands, stopContainers } from '../quiesce/stop-containers';
import type { StopJournal } from '../quiesce/stop-journal';
import { selectPrunable } from '../retention/select-prunable';
import { takeSnapshot } from '../snapshot/take-snapshot';
import type { RunRecord, RunTrigger } from '../status/run-state-store';
import type { Target } from '../targets/target';
import type { VolumeOptions } from '../volumes/volume-options';
import type { ArchiveManifest } from './archive-manifest';
import { formatArchiveName } from './archive-name';
import { verifyArchive } from '../restore/verify-archive';

export interface BackupDeps {
  docker: DockerApi;
  journal: StopJournal;
  target: Target;
  stopTimeoutSeconds: number;
  logger: Logger;
  /** The encryption settings (GPG_PASSPHRASE, AGE_*); without them only encryption none works. */
  keys?: ArchiveKeys;
}

export interface BackupRequest {
  volume: string;
  options: VolumeOptions;
  rawOptions: Record<string, string>;
  dataPath: string;
  stagingDir: string;
  trigger: RunTrigger;
}

/**
 * One backup run, top to bottom: decide what to stop, run archive-pre commands, snapshot (stopping and
 * restarting inside), archive the snapshot to the target, write the manifest, run archive-post commands,
 * prune. Any failure leaves no complete-looking archive and everything stopped started again.
 */
export async function runBackup(deps: BackupDeps, request: BackupRequest): Promise<RunRecord> {
  const { docker, journal, target, logger } = deps;
  const { volume, options } = request;
  const startedAt = new Date();
  const record: RunRecord = {
    trigger: request.trigger,
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    result: 'failed',
    durationMs: 0,
    quiesced: false,
    stopped: [],
  };
  const archive = formatArchiveName(volume, startedAt, options.compression, options.encryption);
  let uploadStarted = false;
  try {
    // Before anything is stopped: keys removed since the volume was created fail the run here.
    const keys = deps.keys ?? NO_KEYS;
    const missingKey = missingKeySetting(options.encryption, keys, options.verify);
    if (missingKey) throw new Error(missingKey);
    await target.removeIncomplete(volume);
    const plan = planQuiesce({
      volume,
      policy: options.stop,
      stopLabel: options.stopLabel,
      containers: await docker.runningContainers(),
    });
    record.stopped = plan.stop.map((stop) => stop.name);
    await runLabelCommands({ docker, commands: plan.pre, phase: 'archive-pre', logger });

    const snapshot = await takeSnapshot({
      mode: options.snapshot,
      source: request.dataPath,
      stagingDir: request.stagingDir,
      exclude: options.exclude,
      logger,
      quiesce: () =>
        stopContainers({ docker, journal, volume, stops: plan.stop, timeoutSeconds: deps.stopTimeoutSeconds, logger }),
    });
    record.snapshotMode = snapshot.modeUsed;
    record.fellBackReason = snapshot.fellBackReason;
    record.quiesced = options.stop !== 'none';
    let archived: Awaited<ReturnType<typeof createArchive>>;
    try {
      logger.info(`Archiving volume ${volume} to ${target.name} as ${archive}`);
      const upload = await target.beginUpload(volume, archive);
      uploadStarted = true;
      try {
        archived = await createArchive({
          sourceDir: snapshot.archiveRoot,
          compression: options.compression,
          exclude: options.exclude,
          output: upload.stream,
          encrypt: encryptionStage(options.encryption, keys),
        });
        await upload.commit();
      } catch (error) {
        await upload.abort().catch(() => undefined);
        throw error;
      }
    } catch (error) {
      // In direct mode release() starts the containers again: it must run, and must not hide this error.
      await snapshot.release().catch((releaseError: Error) => logger.error(`After a failed archive, ${releaseError.message}`));
      throw error;
    }
    await snapshot.release();
    record.downtimeMs = snapshot.downtimeMs;

    const manifest: ArchiveManifest = {
      volume,
      archive,
      options: request.rawOptions,
      created: startedAt.toISOString(),
      bytes: archived.bytes,
      fileCount: archived.fileCount,
      sha256: archived.sha256,
      compression: options.compression,
      encryption: options.encryption,
      snapshotMode: snapshot.modeUsed,
      fellBackReason: snapshot.fellBackReason,
      quiesced: record.quiesced,
      durations: { totalMs: Date.now() - startedAt.getTime(), downtimeMs: snapshot.downtimeMs },
      stopped: { containers: record.stopped },
    };
    await target.writeManifest(manifest);
    if (options.verify) {
      const verified = await verifyArchive(target, volume, { name: archive, manifest }, undefined, deps.keys);
      if (verified.result !== 'ok') throw new Error(`backup-verify: ${verified.error}`);
      record.verified = true;
    }
    Object.assign(record, { result: 'success', archive, bytes: archived.bytes, fileCount: archived.fileCount });
    logger.info(`Backed up volume ${volume} as ${archive} (${archived.bytes} bytes, downtime ${snapshot.downtimeMs} ms)`);

    const warnings = [await runPostCommands(deps, plan.post), await prune(deps, volume, options, record)];
    record.warning = warnings.filter(Boolean).join('; ') || undefined;
  } catch (error) {
    record.error = (error as Error).message;
    logger.error(`Backup of volume ${volume} failed: ${record.error}`);
    if (uploadStarted && record.result !== 'success') await target.remove(volume, archive).catch(() => undefined);
  }
  record.finishedAt = new Date().toISOString();
  record.durationMs = Date.now() - startedAt.getTime();
  return record;
}

/** A failing archive-post command does not undo a complete archive: it becomes a warning in the status. */
async function runPostCommands(deps: BackupDeps, commands: Parameters<typeof runLabelCommands>[0]['commands']) {
  try {
    await runLabelCommands({ docker: deps.docker, commands, phase: 'archive-post', logger: deps.logger });
    return undefined;
  } catch (error) {
    deps.logger.error(`After the backup: ${(error as Error).message}`);
    return (error as Error).message;
  }
}

/** Retention after a successful run; a pruning failure is a warning, the new archive stands. */
async function prune(deps: BackupDeps, volume: string, options: VolumeOptions, record: RunRecord) {
  try {
    const archives = await deps.target.list(volume);
    const prunable = selectPrunable(
      archives.map((archive) => ({ name: archive.name, createdAt: new Date(archive.manifest.created) })),
      options.retention,
      new Date(),
    );
    record.pruned = [];
    for (const name of prunable) {
      await deps.target.remove(volume, name);
      record.pruned.push(name);
      deps.logger.info(`Pruned ${name} (backup-retention)`);
    }
    return undefined;
  } catch (error) {
    deps.logger.error(`Pruning archives of volume ${volume} failed: ${(error as Error).message}`);
    return `pruning failed: ${(error as Error).message}`;
  }
}
