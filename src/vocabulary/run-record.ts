/** What runs leave behind: the records the status, the CLI and the notifications all read. */
import type { ArchiveKind } from './archive-manifest';
import type { PhaseTimings } from './run-phases';
import type { ContainerStop } from './container-stop';

/** How one target fared in a run, for the status. */
export interface TargetOutcome {
  name: string;
  result: 'success' | 'failed';
  error?: string;
}

export type RunTrigger = 'schedule' | 'manual' | 'catch-up';

/** One backup run as the status and the CLI report it. */
export interface RunRecord {
  trigger: RunTrigger;
  startedAt: string;
  finishedAt: string;
  result: 'success' | 'failed';
  archive?: string;
  bytes?: number;
  fileCount?: number;
  /** Set with `archive`; absent in records from before chains, whose archives were all full. */
  kind?: ArchiveKind;
  /** The archive an incremental was based on. */
  base?: string;
  /** The bytes of the archive's chain: its own and those of every archive it builds on. */
  chainBytes?: number;
  durationMs: number;
  downtimeMs?: number;
  phases?: PhaseTimings;
  quiesced: boolean;
  stopped: string[];
  /** How each stopped container went down: its signal, the milliseconds, and whether it had to be killed. */
  stops?: ContainerStop[];
  /** Swarm services scaled to 0 for the snapshot. */
  scaled?: string[];
  /** What was stopped and then no longer existed to be started again (a --rm container), one name each. */
  gone?: string[];
  snapshotMode?: string;
  fellBackReason?: string;
  pruned?: string[];
  /** Set when backup-verify read the new archive back and it matched its manifest. */
  verified?: boolean;
  warning?: string;
  error?: string;
  /** Per target, in the volume's order: whether the archive reached it, and if not, why. */
  targets?: TargetOutcome[];
}

/** One restore into the volume, as the status and the CLI report it. */
export interface RestoreRecord {
  startedAt: string;
  finishedAt: string;
  result: 'success' | 'failed';
  /** The archive restored, when it was found. */
  archive?: string;
  fileCount?: number;
  durationMs: number;
  /** How long the stopped containers were down (the swap), when any were. */
  downtimeMs?: number;
  stopped: string[];
  /** How each stopped container went down, as in RunRecord.stops. */
  stops?: ContainerStop[];
  scaled?: string[];
  /** Containers that had to be killed, in words. */
  warning?: string;
  error?: string;
}

/** One archive read end to end and checked against its manifest. */
export interface VerifyRecord {
  time: string;
  archive: string;
  result: 'ok' | 'failed';
  fileCount?: number;
  error?: string;
}

/**
 * One restore drill: a point restored into a scratch folder through the restore path, checked against
 * its manifests, timed, and deleted. `seconds` is the recovery time.
 */
export interface DrillRecord {
  time: string;
  result: 'ok' | 'failed';
  trigger: 'schedule' | 'manual';
  /** The point drilled, when it was found. */
  archive?: string;
  /** The archives restored to reach it, full one first. */
  chain?: string[];
  /** The target it was read from. */
  target?: string;
  seconds: number;
  /** Content bytes and files restored. */
  bytes?: number;
  fileCount?: number;
  mbPerSecond?: number;
  error?: string;
}

/** Per-volume run state kept beside volume.json, so it goes with the volume and survives restarts. */
export interface RunState {
  lastRun?: RunRecord;
  lastSuccessAt?: string;
  /** When the scheduler expected the next run: a time in the past at start means a run was missed. */
  nextRunAt?: string;
  archiveCount?: number;
  lastRestore?: RestoreRecord;
  lastVerify?: VerifyRecord;
  lastDrill?: DrillRecord;
}

/** How far a long operation got, for the CLI's progress line and the Status. */
export interface ProgressReport {
  phase: string;
  archive?: string;
  bytes?: number;
  /** What `bytes` is expected to reach; for a backup, an estimate (run-progress.ts). */
  totalBytes?: number;
  /** Seconds left at the rate so far, once bytes and a total are known (run-progress.ts adds it). */
  etaSeconds?: number;
}
export type Progress = (report: ProgressReport) => void;

/** What a run's outcome says in every report of it (status, notification), with null for what it lacks. */
export interface RunOutcome {
  result: RunRecord['result'];
  archive: string | null;
  bytes: number | null;
  durationMs: number;
  downtimeMs: number | null;
  error: string | null;
}

export function runOutcome(record: RunRecord): RunOutcome {
  return {
    result: record.result,
    archive: record.archive ?? null,
    bytes: record.bytes ?? null,
    durationMs: record.durationMs,
    downtimeMs: record.downtimeMs ?? null,
    error: record.error ?? null,
  };
}
