import type { Progress, ProgressReport } from '../vocabulary/run-record';

/** What a volume is doing right now, as the Status shows it under `progress`. */
export interface RunningStatus extends ProgressReport {
  /** backup, restore or drill. */
  activity: string;
  startedAt: string;
}

interface Tracked {
  status: RunningStatus;
  /** When the current phase's bytes began to count: the ETA's rate is that phase's. */
  phaseStartedMs: number;
}

/**
 * The progress of each volume's running backup, restore or drill, for `docker volume inspect`, `backupvol
 * ls` and the metrics. Each report is completed with an ETA (at the rate of the phase so far) and passed
 * on to the caller's own progress (the CLI's line), so that all of them read the same figures.
 */
export class RunProgress {
  private readonly running = new Map<string, Tracked>();

  /** Tracks one operation; end() forgets it (call it whatever the outcome). */
  track(volume: string, activity: string, downstream?: Progress): { report: Progress; end(): void } {
    const tracked: Tracked = { status: { activity, phase: 'starting', startedAt: new Date().toISOString() }, phaseStartedMs: Date.now() };
    this.running.set(volume, tracked);
    const report: Progress = (progress) => {
      if (progress.phase !== tracked.status.phase || progress.archive !== tracked.status.archive) tracked.phaseStartedMs = Date.now();
      const etaSeconds = eta(progress, Date.now() - tracked.phaseStartedMs);
      tracked.status = { activity, startedAt: tracked.status.startedAt, ...progress, ...(etaSeconds === undefined ? {} : { etaSeconds }) };
      const { activity: _activity, startedAt: _startedAt, ...forwarded } = tracked.status;
      downstream?.(forwarded);
    };
    return {
      report,
      end: () => {
        if (this.running.get(volume) === tracked) this.running.delete(volume);
      },
    };
  }

  of(volume: string): RunningStatus | undefined {
    return this.running.get(volume)?.status;
  }

  /** bytes / totalBytes of the running operation, when both are known. */
  ratio(volume: string): number | undefined {
    const status = this.of(volume);
    if (status?.bytes === undefined || !status.totalBytes) return undefined;
    return Math.min(1, status.bytes / status.totalBytes);
  }
}

function eta(progress: ProgressReport, phaseMs: number): number | undefined {
  const { bytes, totalBytes } = progress;
  if (bytes === undefined || !totalBytes || bytes <= 0 || phaseMs <= 0) return undefined;
  if (bytes >= totalBytes) return 0;
  return Math.ceil(((totalBytes - bytes) * phaseMs) / bytes / 1000);
}

/** `backup: archive 45% of 1.2 GiB, ETA 12 s`, for `backupvol ls`. */
export function describeRunning(status: RunningStatus): string {
  const parts = [`${status.activity}: ${status.phase}`];
  if (status.bytes !== undefined && status.totalBytes) parts.push(`${Math.min(100, Math.floor((status.bytes / status.totalBytes) * 100))}%`);
  if (status.etaSeconds !== undefined) parts.push(`ETA ${status.etaSeconds} s`);
  return parts.join(' ');
}
