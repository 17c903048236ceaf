import { runOutcome, type DrillRecord, type RestoreRecord, type RunOutcome, type RunRecord, type RunState, type TargetOutcome, type VerifyRecord } from '../vocabulary/run-record';
import type { PhaseTimings } from '../vocabulary/run-phases';
import type { ContainerStop } from '../vocabulary/container-stop';
import type { TargetName } from '../vocabulary/volume-options';
import type { Volume } from '../volumes/volume-registry';
import type { BringBackRetrier, LeftDownStatus } from './bring-back-retrier';
import type { RunGate } from './run-gate';
import type { RunStates } from './run-state';
import type { Activity } from './volume-activity';
import type { RunningStatus, RunProgress } from './run-progress';
import type { VolumeScheduler } from './volume-scheduler';

/** The last backup run as `docker volume inspect` shows it (contract: Status). */
export interface LastRunStatus extends RunOutcome {
  time: string;
  /** What the run's archive is, and how much its whole chain holds, when the run wrote one. */
  kind?: RunRecord['kind'];
  base?: string;
  chainBytes?: number;
  /** Milliseconds per phase of the run (vocabulary/run-phases.ts). */
  phases?: PhaseTimings;
  stopped: string[];
  /** Each stopped container's signal, milliseconds and whether it was killed (warning says so in words). */
  stops?: ContainerStop[];
  scaled?: string[];
  gone?: string[];
  snapshot: string | null;
  fellBack?: string;
  warning?: string;
  targets?: TargetOutcome[];
}

/** A volume's runs as `docker volume inspect`, `backupvol ls` and the tests read them. */
export interface VolumeStatus {
  schedule: string;
  nextRun: string | null;
  target: string;
  /** What is unsafe about the volume's targets (e.g. an SFTP host key that is not checked). */
  warnings?: string[];
  archives: number;
  running: boolean;
  /** A restore or verify in progress. */
  busy?: Activity;
  /** While a backup, restore or drill runs: its phase, bytes of the expected total, and an ETA. */
  progress?: RunningStatus;
  quiesced: boolean | null;
  lastRun: LastRunStatus | null;
  leftDown?: LeftDownStatus;
  lastRestore?: RestoreRecord;
  lastVerify?: VerifyRecord;
  /** backup-drill, when the volume has one: its schedule and next time. */
  drill?: { schedule: string; next: string | null };
  lastDrill?: DrillRecord;
}

export interface StatusViewDeps {
  states: RunStates;
  scheduler: VolumeScheduler;
  drillScheduler?: VolumeScheduler;
  gate: RunGate;
  retrier?: BringBackRetrier;
  progress?: RunProgress;
  /** What is unsafe about a volume's targets (TargetSet.warnings). */
  targetWarnings?(targets: readonly TargetName[]): string[];
}

export class StatusView {
  constructor(private readonly deps: StatusViewDeps) {}

  of(volume: Volume): VolumeStatus {
    const name = volume.record.name;
    const state: RunState = this.deps.states.of(name);
    const warnings = this.deps.targetWarnings?.(volume.options?.targets ?? []) ?? [];
    const activity = this.deps.gate.busyWith(name);
    const leftDown = this.deps.retrier?.status(name);
    const progress = this.deps.progress?.of(name);
    return {
      schedule: volume.options?.schedule ?? 'none',
      nextRun: this.deps.scheduler.nextRun(name)?.toISOString() ?? null,
      target: volume.options?.targets.join(',') ?? 'local',
      ...(warnings.length > 0 ? { warnings } : {}),
      archives: state.archiveCount ?? 0,
      running: activity === 'backup',
      ...(activity && activity !== 'backup' ? { busy: activity } : {}),
      ...(progress ? { progress } : {}),
      quiesced: state.lastRun ? state.lastRun.quiesced : null,
      lastRun: state.lastRun ? lastRunStatus(state.lastRun) : null,
      ...(leftDown ? { leftDown } : {}),
      ...(state.lastRestore ? { lastRestore: state.lastRestore } : {}),
      ...(state.lastVerify ? { lastVerify: state.lastVerify } : {}),
      ...(volume.options?.drill ? { drill: { schedule: volume.options.drill, next: this.deps.drillScheduler?.nextRun(name)?.toISOString() ?? null } } : {}),
      ...(state.lastDrill ? { lastDrill: state.lastDrill } : {}),
    };
  }
}

function lastRunStatus(last: RunRecord): LastRunStatus {
  const { error, ...outcome } = runOutcome(last);
  return {
    time: last.startedAt,
    ...outcome,
    ...(last.kind ? { kind: last.kind } : {}),
    ...(last.base ? { base: last.base } : {}),
    ...(last.chainBytes !== undefined ? { chainBytes: last.chainBytes } : {}),
    ...(last.phases ? { phases: last.phases } : {}),
    stopped: last.stopped,
    ...(last.stops?.length ? { stops: last.stops } : {}),
    ...(last.scaled?.length ? { scaled: last.scaled } : {}),
    ...(last.gone?.length ? { gone: last.gone } : {}),
    snapshot: last.snapshotMode ?? null,
    ...(last.fellBackReason ? { fellBack: last.fellBackReason } : {}),
    ...(last.warning ? { warning: last.warning } : {}),
    ...(last.targets ? { targets: last.targets } : {}),
    error,
  };
}
