import { join } from 'node:path';
import type { Logger } from '../shared/logger';
import type { RunTrigger } from '../vocabulary/run-record';
import type { Volume, VolumeObserver } from '../volumes/volume-registry';
import type { RunCounts } from './run-counts';
import type { RunGate } from './run-gate';
import type { RunStates } from './run-state';
import type { VolumeScheduler } from './volume-scheduler';
import { removeTree } from '../shared/remove-tree';

export interface FollowedVolumesDeps {
  scheduler: VolumeScheduler;
  states: RunStates;
  counts?: RunCounts;
  gate: RunGate;
  /** Starts a backup; its failure is in its record, so the returned promise is not awaited here. */
  backup(volume: string, trigger: RunTrigger): Promise<unknown>;
  /** backup-drill schedules, one task per volume as for backups. */
  drillScheduler?: VolumeScheduler;
  /** A scheduled restore drill of the volume's latest point; its failure is in its record. */
  drill?(volume: string): Promise<unknown>;
  /** Where sync mirrors and copies are staged, one folder per volume. */
  stagingRoot: string;
  /**
   * Puts a removed volume's staging folder out of the way at once, to be deleted in the background
   * (VolumeStore.moveToTrash): a mirror of many files takes longer to delete than the engine waits for
   * Remove. Default: deleted in place.
   */
  discardTree?(path: string): Promise<void>;
  logger: Logger;
}

/**
 * The volumes runs know of, following the registry: each one's run state is loaded, its schedule set,
 * a run missed while the plugin was down caught up once, and its staging discarded when it goes.
 */
export class FollowedVolumes implements VolumeObserver {
  private readonly volumes = new Map<string, Volume>();
  private readonly missed = new Set<string>();

  constructor(private readonly deps: FollowedVolumesDeps) {}

  find(name: string): Volume | undefined {
    return this.volumes.get(name);
  }

  async volumeAdded(volume: Volume): Promise<void> {
    const name = volume.record.name;
    this.volumes.set(name, volume);
    const state = await this.deps.states.load(name);
    this.scheduleDrills(name, volume.options?.drill ?? null);
    const schedule = volume.options?.schedule;
    if (!schedule) return;
    if (state.nextRunAt && Date.parse(state.nextRunAt) < Date.now()) this.missed.add(name);
    this.deps.scheduler.set({
      volume: name,
      cron: schedule,
      jitterMs: volume.options?.jitterMs ?? 0,
      fire: () => void this.deps.backup(name, 'schedule').catch(() => undefined),
    });
    // Not awaited: after an outage every volume's next run changed, and the start must not wait for all
    // those writes before the socket opens.
    void this.deps.states.update(name, { nextRunAt: this.deps.scheduler.nextRun(name)?.toISOString() });
  }

  /**
   * No new run starts, and the one in progress is waited for: it would otherwise recreate the staging
   * mirror and archive folder of a volume that no longer exists.
   */
  async volumeRemoving(name: string): Promise<void> {
    this.deps.scheduler.remove(name);
    this.deps.drillScheduler?.remove(name);
    await this.deps.gate.idle(name);
  }

  /** The schedule and the staging mirror go with the volume; its archives stay in the target. */
  async volumeRemoved(name: string): Promise<void> {
    this.deps.scheduler.remove(name);
    this.deps.drillScheduler?.remove(name);
    this.volumes.delete(name);
    await this.deps.states.forget(name);
    this.deps.counts?.forget(name);
    this.missed.delete(name);
    const staging = join(this.deps.stagingRoot, name);
    await (this.deps.discardTree ? this.deps.discardTree(staging) : removeTree(staging));
  }

  /** A drill that comes due while the last one still runs is skipped and logged. */
  private scheduleDrills(name: string, cron: string | null): void {
    const { drillScheduler, drill, logger } = this.deps;
    if (!drillScheduler || !drill || !cron) return;
    drillScheduler.set({
      volume: name,
      cron,
      jitterMs: 0,
      fire: () => void drill(name).catch((error: Error) => logger.warn(`Scheduled restore drill of volume ${name} did not run: ${error.message}`)),
    });
  }

  /** Runs the backups whose scheduled time passed while the plugin or the engine was down, once each. */
  catchUpMissedRuns(): void {
    for (const name of this.missed) {
      this.deps.logger.info(`Volume ${name} missed a scheduled backup while the plugin was down; running it now`);
      void this.deps.backup(name, 'catch-up').catch(() => undefined);
    }
    this.missed.clear();
  }
}
