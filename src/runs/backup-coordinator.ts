import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../shared/logger';
import { KeyedLock } from '../shared/keyed-lock';
import type { BringBackRetrier } from './bring-back-retrier';
import type { ConcurrencyLimit } from '../shared/concurrency-limit';
import type { VolumeActivity } from './volume-activity';
import type { VolumeScheduler } from './volume-scheduler';
import type { RunStateStore } from './run-state-store';
import type { RunRecord, RunState, RunTrigger } from '../vocabulary/run-record';
import type { Volume, VolumeObserver } from '../volumes/volume-registry';
import type { ArchiveSource } from '../targets/target-reader';
import type { TargetName } from '../vocabulary/volume-options';
import { runBackup, type BackupDeps } from './backup/run-backup';

export interface CoordinatorDeps {
  backup: BackupDeps;
  scheduler: VolumeScheduler;
  limit: ConcurrencyLimit;
  runStates: RunStateStore;
  /** Where sync mirrors and copies are staged, one folder per volume. */
  stagingRoot: string;
  /**
   * Puts a removed volume's staging folder out of the way at once, to be deleted in the background
   * (VolumeStore.moveToTrash): a mirror of many files takes longer to delete than the engine waits for
   * Remove. Default: deleted in place.
   */
  discardTree?(path: string): Promise<void>;
  dataPath(volume: string): string;
  /** Resolves once the Docker API answers; runs wait for it, the protocol never does. */
  dockerReady: Promise<void>;
  /** Shared with restore and verify: one activity per volume at a time. */
  activity: VolumeActivity;
  logger: Logger;
  /** Reads a volume's archives from its targets (the archive count in the status). */
  readArchives(targets: readonly TargetName[]): ArchiveSource;
  /** What is unsafe about a volume's targets (TargetSet.warnings), shown in its status. */
  targetWarnings?(targets: readonly TargetName[]): string[];
  /** Retries, in the background, what a run (or restore) could not bring back. */
  retrier?: BringBackRetrier;
  /** Aborted at shutdown: runs in progress stop and bring back what they stopped. */
  signal?: AbortSignal;
  /** Told of every finished run (notify/notifier.ts); it never throws and is not waited for. */
  notifier?: { runFinished(volume: string, record: RunRecord): Promise<void> };
}

/**
 * Follows the volumes: schedules them, runs their backups (one at a time per volume, at most
 * MAX_CONCURRENT_BACKUPS overall) and keeps what the status shows.
 */
export class BackupCoordinator implements VolumeObserver {
  private readonly states = new Map<string, RunState>();
  private readonly volumes = new Map<string, Volume>();
  private readonly missed = new Set<string>();
  /** Run-state writes of one volume, one after another: a late write must not put back an older state. */
  private readonly writes = new KeyedLock();

  constructor(private readonly deps: CoordinatorDeps) {}

  async volumeAdded(volume: Volume): Promise<void> {
    const name = volume.record.name;
    this.volumes.set(name, volume);
    const state = await this.deps.runStates.read(name).catch((error: Error) => {
      this.deps.logger.error(`Could not read the run state of volume ${name}: ${error.message}`);
      return {} as RunState;
    });
    this.states.set(name, state);
    const schedule = volume.options?.schedule;
    if (!schedule) return;
    if (state.nextRunAt && Date.parse(state.nextRunAt) < Date.now()) this.missed.add(name);
    this.deps.scheduler.set({
      volume: name,
      cron: schedule,
      jitterMs: volume.options?.jitterMs ?? 0,
      fire: () => void this.backup(name, 'schedule').catch(() => undefined),
    });
    // Not awaited: after an outage every volume's next run changed, and the start must not wait for all
    // those writes before the socket opens.
    void this.rememberNextRun(name);
  }

  /**
   * No new run starts, and the one in progress is waited for: it would otherwise recreate the staging
   * mirror and archive folder of a volume that no longer exists.
   */
  async volumeRemoving(name: string): Promise<void> {
    this.deps.scheduler.remove(name);
    await this.deps.activity.idle(name);
  }

  /** The schedule and the staging mirror go with the volume; its archives stay in the target. */
  async volumeRemoved(name: string): Promise<void> {
    this.deps.scheduler.remove(name);
    this.volumes.delete(name);
    this.states.delete(name);
    this.missed.delete(name);
    const staging = join(this.deps.stagingRoot, name);
    await (this.deps.discardTree ? this.deps.discardTree(staging) : rm(staging, { recursive: true, force: true }));
  }

  statusOf(volume: Volume): Record<string, unknown> {
    const name = volume.record.name;
    const state = this.states.get(name) ?? {};
    const last = state.lastRun;
    const warnings = this.deps.targetWarnings?.(volume.options?.targets ?? []) ?? [];
    return {
      schedule: volume.options?.schedule ?? 'none',
      nextRun: this.deps.scheduler.nextRun(name)?.toISOString() ?? null,
      target: volume.options?.targets.join(',') ?? 'local',
      ...(warnings.length > 0 ? { warnings } : {}),
      archives: state.archiveCount ?? 0,
      running: this.deps.activity.of(name) === 'backup',
      ...(this.deps.activity.of(name) && this.deps.activity.of(name) !== 'backup' ? { busy: this.deps.activity.of(name) } : {}),
      quiesced: last ? last.quiesced : null,
      lastRun: last
        ? {
            time: last.startedAt,
            result: last.result,
            archive: last.archive ?? null,
            bytes: last.bytes ?? null,
            durationMs: last.durationMs,
            downtimeMs: last.downtimeMs ?? null,
            stopped: last.stopped,
            ...(last.scaled?.length ? { scaled: last.scaled } : {}),
            ...(last.gone?.length ? { gone: last.gone } : {}),
            snapshot: last.snapshotMode ?? null,
            ...(last.fellBackReason ? { fellBack: last.fellBackReason } : {}),
            ...(last.warning ? { warning: last.warning } : {}),
            ...(last.targets ? { targets: last.targets } : {}),
            error: last.error ?? null,
          }
        : null,
      ...(this.deps.retrier?.status(name) ? { leftDown: this.deps.retrier.status(name) } : {}),
      ...(state.lastRestore ? { lastRestore: state.lastRestore } : {}),
      ...(state.lastVerify ? { lastVerify: state.lastVerify } : {}),
    };
  }

  /** Runs the backups whose scheduled time passed while the plugin or the engine was down, once each. */
  catchUpMissedRuns(): void {
    for (const name of this.missed) {
      this.deps.logger.info(`Volume ${name} missed a scheduled backup while the plugin was down; running it now`);
      void this.backup(name, 'catch-up').catch(() => undefined);
    }
    this.missed.clear();
  }

  /** Backs the volume up now; rejects when it is already being backed up or has no usable options. */
  async backup(name: string, trigger: RunTrigger): Promise<RunRecord> {
    const volume = this.volumes.get(name);
    if (!volume) throw new Error(`no such volume: ${name}`);
    if (!volume.options) throw new Error(`volume ${name} cannot be backed up: ${volume.optionsError}`);
    const busy = this.deps.activity.of(name);
    if (busy) {
      this.deps.logger.warn(`Skipping the ${trigger} backup of volume ${name}: a ${busy} of it is still running`);
      throw new Error(busy === 'backup' ? `a backup of volume ${name} is already running` : `volume ${name} is busy: a ${busy} of it is running`);
    }
    const options = volume.options;
    return this.deps.activity.run(name, 'backup', async () => {
      await this.deps.dockerReady;
      const record = await this.deps.limit.run(() =>
        runBackup(this.deps.backup, {
          volume: name,
          options,
          rawOptions: volume.record.options,
          dataPath: this.deps.dataPath(name),
          stagingDir: join(this.deps.stagingRoot, name),
          trigger,
          signal: this.deps.signal,
        }),
      );
      await this.remember(name, { lastRun: record, lastSuccessAt: record.result === 'success' ? record.finishedAt : undefined });
      // Not awaited: a slow webhook must not hold the volume's activity slot or `backupvol backup`.
      void this.deps.notifier?.runFinished(name, record).catch(() => undefined);
      return record;
    });
  }

  /**
   * Runs other work that stops containers (a restore) in one of the slots backups take
   * (MAX_CONCURRENT_BACKUPS): a container that mounts two volumes must not be started again by one
   * operation in the middle of the other's quiesce, nor stopped under a backup that expects it stopped.
   */
  async inRunSlot<T>(work: () => Promise<T>): Promise<T> {
    return this.deps.limit.run(work);
  }

  /** Waits for the Docker API, as every run does (restores too). */
  get dockerReady(): Promise<void> {
    return this.deps.dockerReady;
  }

  /** Records the outcome of a restore or verify (or a backup) in the volume's run state. */
  async remember(name: string, outcome: Partial<RunState>): Promise<void> {
    if (!this.volumes.has(name)) return;
    const targets = this.volumes.get(name)?.options?.targets ?? ['local'];
    const archives = await this.deps.readArchives(targets).list(name).catch(() => undefined);
    const previous = this.states.get(name) ?? {};
    const state: RunState = {
      ...previous,
      ...outcome,
      lastSuccessAt: outcome.lastSuccessAt ?? previous.lastSuccessAt,
      archiveCount: archives?.length ?? previous.archiveCount,
      nextRunAt: this.deps.scheduler.nextRun(name)?.toISOString(),
    };
    this.states.set(name, state);
    await this.saveState(name);
    // What the run or restore could not bring back is still in the journal: it is retried from now on.
    await this.deps.retrier?.retryJournaled(name).catch((error: Error) => {
      this.deps.logger.error(`Could not read the stop journal of volume ${name}: ${error.message}`);
    });
  }

  private async rememberNextRun(name: string): Promise<void> {
    const nextRunAt = this.deps.scheduler.nextRun(name)?.toISOString();
    const state = this.states.get(name) ?? {};
    if (state.nextRunAt === nextRunAt) return;
    this.states.set(name, { ...state, nextRunAt });
    await this.saveState(name);
  }

  /** Writes the volume's state as it is in memory when its turn comes (not as it was when asked). */
  private async saveState(name: string): Promise<void> {
    await this.writes
      .run(name, async () => {
        const state = this.states.get(name);
        if (state) await this.deps.runStates.write(name, state);
      })
      .catch((error: Error) => {
        this.deps.logger.error(`Could not save the run state of volume ${name}: ${error.message}`);
      });
  }
}
