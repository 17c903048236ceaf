import { join } from 'node:path';
import type { Logger } from '../shared/logger';
import type { ArchiveKind } from '../vocabulary/archive-manifest';
import type { Progress, RunRecord, RunTrigger } from '../vocabulary/run-record';
import type { RunProgress } from './run-progress';
import type { Volume } from '../volumes/volume-registry';
import type { BackupDeps } from './backup/run-backup';
import type { OutcomeRecorder } from './outcome-recorder';
import type { RunGate } from './run-gate';

export interface BackupRunsDeps {
  backup: BackupDeps;
  gate: RunGate;
  recorder: OutcomeRecorder;
  find(volume: string): Volume | undefined;
  /** When the volume's last run started, if it ran (RunState.lastRun). */
  previousStart?(volume: string): string | undefined;
  /** The running runs' progress, for the Status (and the CLI's line, through `progress`). */
  progress?: RunProgress;
  /** The bytes of the volume's last archive of this kind: the progress' expected total. */
  expectedBytes?(volume: string, kind: ArchiveKind): number | undefined;
  /** Where sync mirrors and copies are staged, one folder per volume. */
  stagingRoot: string;
  dataPath(volume: string): string;
  /** Aborted at shutdown: runs in progress stop and bring back what they stopped. */
  signal?: AbortSignal;
  /** Told of every finished run (runs/notifier.ts); it never throws and is not waited for. */
  notifier?: { runFinished(volume: string, record: RunRecord): Promise<void> };
  logger: Logger;
}

/** A backup of one volume, scheduled or asked for: through the gate, recorded, notified. */
export class BackupRuns {
  constructor(private readonly deps: BackupRunsDeps) {}

  /** Rejects when the volume is busy or has no usable options; a run that fails resolves with its record. */
  async run(name: string, trigger: RunTrigger, progress?: Progress): Promise<RunRecord> {
    const volume = this.deps.find(name);
    if (!volume) throw new Error(`no such volume: ${name}`);
    const options = volume.options;
    if (!options) throw new Error(`volume ${name} cannot be backed up: ${volume.optionsError}`);
    const busy = this.deps.gate.busyWith(name);
    if (busy) {
      this.deps.logger.warn(`Skipping the ${trigger} backup of volume ${name}: a ${busy} of it is still running`);
      throw new Error(busy === 'backup' ? `a backup of volume ${name} is already running` : `volume ${name} is busy: a ${busy} of it is running`);
    }
    return this.deps.gate.turn(name, 'backup', async () => {
      const tracking = this.deps.progress?.track(name, 'backup', progress);
      const report = tracking?.report ?? progress;
      let record: RunRecord;
      try {
        record = await this.deps.gate.slot(
          () =>
            loadRunBackup().runBackup(this.deps.backup, {
              volume: name,
              options,
              rawOptions: volume.record.options,
              dataPath: this.deps.dataPath(name),
              stagingDir: join(this.deps.stagingRoot, name),
              trigger,
              signal: this.deps.signal,
              previousStart: this.deps.previousStart?.(name),
              onProgress: report,
              expectedBytes: (kind) => this.deps.expectedBytes?.(name, kind),
            }),
          (phase) => report?.({ phase }),
        );
      } finally {
        tracking?.end();
      }
      await this.deps.recorder.record(name, { lastRun: record, ...(record.result === 'success' ? { lastSuccessAt: record.finishedAt } : {}) });
      // Not awaited: a slow webhook must not hold the volume's activity slot or `backupvol backup`.
      void this.deps.notifier?.runFinished(name, record).catch(() => undefined);
      return record;
    });
  }
}

/**
 * The backup's code (snapshot, archive, targets' writers, the tar and glob libraries) is read at the first
 * run: an idle plugin, and one whose volumes have no schedule, never holds it.
 */
function loadRunBackup(): typeof import('./backup/run-backup') {
  return require('./backup/run-backup') as typeof import('./backup/run-backup');
}
