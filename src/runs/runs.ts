import type { Logger } from '../shared/logger';
import type { ConcurrencyLimit } from '../shared/concurrency-limit';
import type { ArchiveSource } from '../targets/target-reader';
import type { RunRecord } from '../vocabulary/run-record';
import type { TargetName } from '../vocabulary/volume-options';
import { BackupRuns } from './backup-runs';
import type { BackupDeps } from './backup/run-backup';
import type { BringBackRetrier } from './bring-back-retrier';
import { FollowedVolumes } from './followed-volumes';
import { OutcomeRecorder } from './outcome-recorder';
import { RunCounts } from './run-counts';
import { RunGate } from './run-gate';
import { RunStates, type RunStateStore } from './run-state';
import { RunProgress } from './run-progress';
import { StatusView } from './status-view';
import type { VolumeActivity } from './volume-activity';
import type { VolumeScheduler } from './volume-scheduler';

export interface RunsDeps {
  backup: BackupDeps;
  scheduler: VolumeScheduler;
  limit: ConcurrencyLimit;
  runStates: RunStateStore;
  stagingRoot: string;
  discardTree?(path: string): Promise<void>;
  dataPath(volume: string): string;
  dockerReady: Promise<void>;
  /** Shared with the bring-back retrier: one activity per volume at a time. */
  activity: VolumeActivity;
  readArchives(targets: readonly TargetName[]): ArchiveSource;
  targetWarnings?(targets: readonly TargetName[]): string[];
  retrier?: BringBackRetrier;
  signal?: AbortSignal;
  notifier?: { runFinished(volume: string, record: RunRecord): Promise<void> };
  /** backup-drill schedules and what runs a scheduled drill (Restores.drill, wired in main.ts). */
  drillScheduler?: VolumeScheduler;
  drill?(volume: string): Promise<unknown>;
  logger: Logger;
}

/** The parts of the runs layer, wired to each other; main.ts and the tests build them here. */
export interface Runs {
  volumes: FollowedVolumes;
  backups: BackupRuns;
  status: StatusView;
  gate: RunGate;
  recorder: OutcomeRecorder;
  states: RunStates;
  /** Backup results per volume since the start (the metrics' counters). */
  counts: RunCounts;
  /** What runs right now, how far it got (the Status, `backupvol ls`, the metrics). */
  progress: RunProgress;
}

export function createRuns(deps: RunsDeps): Runs {
  const { scheduler, logger, retrier } = deps;
  const states = new RunStates(deps.runStates, logger);
  const counts = new RunCounts();
  const gate = new RunGate({ activity: deps.activity, limit: deps.limit, dockerReady: deps.dockerReady });
  const find = (volume: string) => volumes.find(volume);
  const recorder = new OutcomeRecorder({ states, scheduler, find, readArchives: deps.readArchives, retrier, counts, logger });
  const progress = new RunProgress();
  const backups = new BackupRuns({
    ...deps,
    gate,
    recorder,
    find,
    progress,
    previousStart: (volume) => states.of(volume).lastRun?.startedAt,
    expectedBytes: (volume, kind) => {
      const last = states.of(volume).lastRun;
      return last?.archive && (last.kind ?? 'full') === kind ? last.bytes : undefined;
    },
  });
  const volumes: FollowedVolumes = new FollowedVolumes({
    ...deps,
    states,
    counts,
    gate,
    backup: (volume, trigger) => backups.run(volume, trigger),
  });
  const status = new StatusView({ states, scheduler, drillScheduler: deps.drillScheduler, gate, retrier, progress, targetWarnings: deps.targetWarnings });
  return { volumes, backups, status, gate, recorder, states, counts, progress };
}
