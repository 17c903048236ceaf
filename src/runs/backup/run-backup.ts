import { setTimeout as delay } from 'node:timers/promises';
import { createArchive } from '../../archive';
import { encryptionStage } from '../../crypto/archive-cipher';
import { missingKeySetting, NO_KEYS, type ArchiveKeys } from '../../settings/archive-keys';
import type { DockerApi } from '../../engine/docker-api';
import type { Logger } from '../../shared/logger';
import { describeStopped, planFromEngine, quiesceTimeouts, type StopTimeouts } from '../../engine/plan-from-engine';
import { runLabelCommands, stopContainers } from '../../engine/stop-containers';
import type { StopJournal } from '../../engine/stop-journal';
import { selectPrunable } from '../retention/select-prunable';
import { takeSnapshot } from '../../snapshot/take-snapshot';
import type { Progress, RunRecord, RunTrigger } from '../../vocabulary/run-record';
import type { Target } from '../../targets/target';
import type { TargetProvider } from '../../targets/target-set';
import { PlannedLink } from './chain-link';
import { chainRecordFields } from './plan-archive-kind';
import { MultiUpload } from './multi-upload';
import type { VolumeOptions } from '../../vocabulary/volume-options';
import type { ArchiveKind, ArchiveManifest } from '../../vocabulary/archive-manifest';
import { formatArchiveName } from '../../vocabulary/archive-name';
import { verifyArchive } from '../restore/verify-archive';
import { PhaseTimer } from '../../shared/phase-timer';
import { describePhases, type RunPhase } from '../../vocabulary/run-phases';
import { killedContainersWarning, type ContainerStop } from '../../vocabulary/container-stop';

export interface BackupDeps extends StopTimeouts {
  docker: DockerApi;
  journal: StopJournal;
  targets: TargetProvider;
  logger: Logger;
  /** The encryption settings (GPG_PASSPHRASE, AGE_*); without them only encryption none works. */
  keys?: ArchiveKeys;
  /** HOOK_TIMEOUT: seconds an archive-pre or archive-post command may run. */
  hookTimeoutSeconds?: number;
}

export interface BackupRequest {
  volume: string;
  options: VolumeOptions;
  rawOptions: Record<string, string>;
  dataPath: string;
  stagingDir: string;
  trigger: RunTrigger;
  /** Aborted when the plugin stops: nothing more is stopped, the archive is abandoned, what was stopped comes back. */
  signal?: AbortSignal;
  /** When the volume's previous run started (ISO): this one starts in a later second (startAfter). */
  previousStart?: string;
  /** Hears each phase as it begins, and the archive's bytes as they are written. */
  onProgress?: Progress;
  /** What an archive of this kind is expected to weigh (the previous one's bytes), for the progress' total. */
  expectedBytes?: (kind: ArchiveKind) => number | undefined;
}

/**
 * One backup run, top to bottom: decide what to stop, run archive-pre commands, snapshot (stopping and
 * restarting inside), archive the snapshot to the target, write the manifest, run archive-post commands,
 * prune. Any failure leaves no complete-looking archive and everything stopped started again.
 */
export async function runBackup(deps: BackupDeps, request: BackupRequest): Promise<RunRecord> {
  const { docker, journal, targets, logger } = deps;
  const { volume, options } = request;
  const startedAt = await startAfter(request.previousStart);
  const timer = new PhaseTimer<RunPhase>((phase) => request.onProgress?.({ phase }));
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
  let upload: MultiUpload | undefined;
  let link: PlannedLink | undefined;
  const keys = deps.keys ?? NO_KEYS;
  try {
    const { multi, plan, specs } = await timer.time('prepare', async () => {
      // Before anything is stopped: keys removed since the volume was created fail the run here.
      const missingKey = missingKeySetting(options.encryption, keys, options.verify);
      if (missingKey) throw new Error(missingKey);
      // Said once per run, not only at start: a log read after a run shows it beside that run.
      for (const warning of targets.warnings?.(options.targets) ?? []) logger.warn(`Backup of volume ${volume}: ${warning}`);
      // An unreachable target is failed here, before anything is stopped (the run fails when all are).
      const volumeTargets = options.targets.map((name) => targets.get(name));
      upload = await MultiUpload.prepare(volumeTargets, volume, (text) => targets.redact(text));
      link = await PlannedLink.plan({ volume, options, targets: volumeTargets, stagingDir: request.stagingDir, logger });
      const plan = await planFromEngine(docker, { volume, policy: options.stop, stopLabel: options.stopLabel });
      return { multi: upload, plan, specs: await describeStopped(docker, plan, logger) };
    });
    record.stopped = plan.stop.map((stop) => stop.name);
    record.scaled = plan.scale.map((scale) => scale.name);
    await timer.time('archive-pre', () =>
      runLabelCommands({ docker, commands: plan.pre, phase: 'archive-pre', logger, timeoutSeconds: deps.hookTimeoutSeconds }),
    );

    const snapshot = await takeSnapshot({
      mode: options.snapshot,
      source: request.dataPath,
      stagingDir: request.stagingDir,
      exclude: options.exclude,
      logger,
      timer,
      nothingToStop: plan.stop.length === 0 && plan.scale.length === 0,
      quiesce: async () => {
        request.signal?.throwIfAborted();
        const onStopped = (stop: ContainerStop): void => {
          record.stops = [...(record.stops ?? []), stop];
        };
        const resume = await stopContainers({ ...quiesceTimeouts(deps), docker, journal, volume, stops: plan.stop, scales: plan.scale, onStopped, logger });
        if (request.signal?.aborted) {
          await resume();
          request.signal.throwIfAborted();
        }
        return async () => {
          const { gone } = await resume();
          if (gone.length > 0) record.gone = gone;
        };
      },
    });
    record.snapshotMode = snapshot.modeUsed;
    record.fellBackReason = snapshot.fellBackReason;
    record.quiesced = options.stop !== 'none';
    let archived: Awaited<ReturnType<typeof createArchive>>;
    try {
      logger.info(`Archiving volume ${volume} to ${options.targets.join(',')} as ${archive}`);
      const totalBytes = request.expectedBytes?.(link?.plan.kind ?? 'full');
      archived = await timer.time('archive', async () => {
        await multi.begin(archive);
        return createArchive({
          sourceDir: snapshot.archiveRoot,
          compression: options.compression,
          exclude: options.exclude,
          output: multi.output,
          encrypt: encryptionStage(options.encryption, keys),
          signal: request.signal,
          chain: link?.packing(snapshot.modeUsed),
          onBytes: request.onProgress && ((bytes) => request.onProgress?.({ phase: 'archive', archive, bytes, totalBytes })),
        });
      });
      await timer.time('fsync', () => multi.commit());
    } catch (error) {
      // In direct mode release() starts the containers again: it must run, and must not hide this error.
      // It comes before the targets' cleanup (the catch below): a target that hung may take its whole
      // TRANSFER_STALL_TIMEOUT to fail that too, and the containers need not wait for it.
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
      durations: { totalMs: timer.elapsedMs(), downtimeMs: snapshot.downtimeMs, phases: timer.timings() },
      stopped: { containers: record.stopped, services: record.scaled, specs },
      ...link?.manifestFields(archive),
    };
    await timer.time('manifest', () => multi.forEachLive((target) => target.writeManifest(volume, manifest)));
    if (options.verify) {
      await timer.time('verify', () => multi.forEachLive(async (target) => {
        const verified = await verifyArchive(target, volume, { name: archive, manifest }, {
          keys: deps.keys,
          encryption: [{ volume, encryption: options.encryption }],
        });
        if (verified.result !== 'ok') throw new Error(`backup-verify: ${verified.error}`);
      }));
    }
    record.targets = multi.outcomes();
    const kept = multi.succeeded();
    if (kept.length === 0) throw multi.failure();
    if (options.verify) record.verified = true;
    Object.assign(record, { archive, bytes: archived.bytes, fileCount: archived.fileCount });
    if (link) Object.assign(record, chainRecordFields(link.plan, archived.bytes));
    // One target failing fails the run, but the archive stands in the others (and is pruned there).
    if (kept.length === options.targets.length) record.result = 'success';
    else record.error = multi.failure().message;
    // Only an archive every target holds is a base: otherwise the next run is a full one.
    if (record.result === 'success') {
      await link?.commit(archive).catch((error: Error) => logger.warn(`Volume ${volume}: the next run is a full archive, its index could not be kept: ${error.message}`));
    }
    logger.info(`Backed up volume ${volume} as ${archive} to ${kept.map((target) => target.name).join(',')} (${archived.bytes} bytes, downtime ${snapshot.downtimeMs} ms)`);
    if (record.error) logger.error(`Backup of volume ${volume} failed in part: ${record.error}`);

    const warnings = [
      killedContainersWarning(record.stops ?? []),
      record.gone ? `gone after the backup (removed when it was stopped, e.g. started with --rm): ${record.gone.join(', ')}` : undefined,
      await timer.time('archive-post', () => runPostCommands(deps, plan.post)),
    ];
    await timer.time('prune', async () => {
      for (const target of kept) warnings.push(await prune(deps, target, volume, options, record));
    });
    record.warning = warnings.filter(Boolean).join('; ') || undefined;
  } catch (error) {
    // When the targets were what failed, their own errors (each naming its target) say why; the error
    // that surfaced here is only the last of them, without the target's name.
    const targetsFailed = upload?.allTargetsFailed() ?? false;
    record.error = targets.redact((targetsFailed && upload ? upload.failure() : (error as Error)).message);
    logger.error(`Backup of volume ${volume} failed: ${record.error}`);
    await link?.discard().catch(() => undefined);
    // Nothing complete-looking may stay anywhere: a run that failed before any target held the whole
    // archive and its manifest removes what it uploaded, in every target.
    if (upload && !record.archive) {
      // Outcomes after the removal: a target whose upload went is not a success, whatever it did itself.
      await upload.abortAll();
      record.targets = upload.outcomes();
    }
  }
  record.finishedAt = new Date().toISOString();
  record.durationMs = timer.elapsedMs();
  record.phases = timer.timings();
  logger.info(`Backup of volume ${volume} took ${record.durationMs} ms: ${describePhases(record.phases)}`);
  return record;
}

/** A failing archive-post command does not undo a complete archive: it becomes a warning in the status. */
async function runPostCommands(deps: BackupDeps, commands: Parameters<typeof runLabelCommands>[0]['commands']) {
  try {
    await runLabelCommands({ docker: deps.docker, commands, phase: 'archive-post', logger: deps.logger, timeoutSeconds: deps.hookTimeoutSeconds });
    return undefined;
  } catch (error) {
    // The status and the notification are not masked by the logger: the configured secrets go here too.
    const message = deps.targets.redact((error as Error).message);
    deps.logger.error(`After the backup: ${message}`);
    return message;
  }
}

/** Retention in one target after the archive reached it; a pruning failure is a warning, the new archive stands. */
async function prune(deps: BackupDeps, target: Target, volume: string, options: VolumeOptions, record: RunRecord) {
  try {
    const archives = await target.list(volume);
    const prunable = selectPrunable(
      archives.map((archive) => ({ name: archive.name, createdAt: new Date(archive.manifest.created), base: archive.manifest.base })),
      options.retention,
      new Date(),
    );
    record.pruned ??= [];
    for (const name of prunable) {
      await target.remove(volume, name);
      if (!record.pruned.includes(name)) record.pruned.push(name);
      deps.logger.info(`Pruned ${name} from ${target.name} (backup-retention)`);
    }
    return undefined;
  } catch (error) {
    const message = deps.targets.redact((error as Error).message);
    deps.logger.error(`Pruning archives of volume ${volume} in ${target.name} failed: ${message}`);
    return `pruning in ${target.name} failed: ${message}`;
  }
}

/**
 * Archive names carry the start time to the second: a run that started in the same second as the one
 * before would take its archive's name, and an incremental would replace its own base. Such a run waits
 * for the next second (never longer; a clock set back is not waited for).
 */
async function startAfter(previousStart: string | undefined): Promise<Date> {
  const now = Date.now();
  const previous = previousStart === undefined ? NaN : Date.parse(previousStart);
  const nextSecond = Math.floor(previous / 1000) * 1000 + 1000;
  if (Number.isNaN(previous) || now < previous || now >= nextSecond) return new Date(now);
  await delay(nextSecond - now);
  return new Date();
}
