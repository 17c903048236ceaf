import type { Logger } from '../shared/logger';
import type { ArchiveSource } from '../targets/target-reader';
import type { RunState } from '../vocabulary/run-record';
import type { TargetName } from '../vocabulary/volume-options';
import type { Volume } from '../volumes/volume-registry';
import type { BringBackRetrier } from './bring-back-retrier';
import type { RunCounts } from './run-counts';
import type { RunStates } from './run-state';
import type { VolumeScheduler } from './volume-scheduler';

export interface OutcomeRecorderDeps {
  states: RunStates;
  scheduler: VolumeScheduler;
  find(volume: string): Volume | undefined;
  /** Reads a volume's archives from its targets (the archive count in the status). */
  readArchives(targets: readonly TargetName[]): ArchiveSource;
  /** Retries, in the background, what a run (or restore) could not bring back. */
  retrier?: BringBackRetrier;
  /** Backup results per volume, for the metrics' counters. */
  counts?: RunCounts;
  logger: Logger;
}

/** What every backup, restore and verify does when it ends: its record, the archive count and the next run, saved. */
export class OutcomeRecorder {
  constructor(private readonly deps: OutcomeRecorderDeps) {}

  async record(volume: string, outcome: Partial<RunState>): Promise<void> {
    const followed = this.deps.find(volume);
    if (!followed) return;
    const targets = followed.options?.targets ?? ['local'];
    const archives = await this.deps.readArchives(targets).list(volume).catch(() => undefined);
    await this.deps.states.update(volume, {
      ...outcome,
      ...(archives ? { archiveCount: archives.length } : {}),
      nextRunAt: this.deps.scheduler.nextRun(volume)?.toISOString(),
    });
    // After the state: a scrape never counts a run whose record it cannot see yet.
    if (outcome.lastRun) this.deps.counts?.count(volume, outcome.lastRun.result);
    // What the run or restore could not bring back is still in the journal: it is retried from now on.
    await this.deps.retrier?.retryJournaled(volume).catch((error: Error) => {
      this.deps.logger.error(`Could not read the stop journal of volume ${volume}: ${error.message}`);
    });
  }
}
