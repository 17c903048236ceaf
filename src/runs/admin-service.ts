import type { ArchiveKind } from '../vocabulary/archive-manifest';
import type { PhaseTimings } from '../vocabulary/run-phases';
import type { DrillRecord, Progress, RestoreRecord, RunRecord, VerifyRecord } from '../vocabulary/run-record';
import { assertValidVolumeName } from '../vocabulary/volume-name';
import { describeRunning } from './run-progress';
import type { VolumeRegistry } from '../volumes/volume-registry';
import type { BackupRuns } from './backup-runs';
import type { Restores } from './restore/restores';
import type { StatusView } from './status-view';
import type { SwarmExports } from './swarm/swarm-exports';
import type { RecreateReport } from './swarm/recreate-definitions';
import type { SwarmDefinitions } from '../vocabulary/swarm-definitions';

export interface VolumeRow {
  name: string;
  schedule: string;
  nextRun: string | null;
  archives: number;
  target: string;
  busy: string | null;
  /** `backup: archive 45% ETA 12 s` while something runs (run-progress.ts). */
  progress: string | null;
  lastRun: { time: string; result: string; archive: string | null; error: string | null } | null;
}

export interface ArchiveRow {
  name: string;
  /** `full` for manifests from before chains too. */
  kind: ArchiveKind;
  /** The archive an incremental applies on; null for a full one. */
  base: string | null;
  created: string;
  bytes: number;
  fileCount: number;
  downtimeMs: number;
  durationMs: number;
  /** Milliseconds per phase up to the manifest; absent for archives made before phases were kept. */
  phases?: PhaseTimings;
  snapshot: string;
  quiesced: boolean;
  /** The target it is read from: the first of the volume's targets that holds it. */
  target: string;
}

export interface AdminDeps {
  registry: VolumeRegistry;
  backups: BackupRuns;
  restores: Restores;
  status: StatusView;
  swarm: SwarmExports;
}

/**
 * What the host CLI asks of the plugin (the admin endpoints, not part of the Docker protocol), in the
 * shapes the CLI prints. Backups go the way scheduled ones do; restores and verifies through Restores.
 */
export class AdminService {
  constructor(private readonly deps: AdminDeps) {}

  list(): VolumeRow[] {
    return this.deps.registry.all().map((volume) => {
      const status = this.deps.status.of(volume);
      const last = status.lastRun;
      return {
        name: volume.record.name,
        schedule: status.schedule,
        nextRun: status.nextRun,
        archives: status.archives,
        target: status.target,
        busy: status.busy ?? (status.running ? 'backup' : null),
        progress: status.progress ? describeRunning(status.progress) : null,
        lastRun: last ? { time: last.time, result: last.result, archive: last.archive, error: last.error } : null,
      };
    });
  }

  async backup(volume: string, progress?: Progress): Promise<RunRecord> {
    this.known(volume);
    return this.deps.backups.run(volume, 'manual', progress);
  }

  /** Complete archives of a volume, newest first; works for a removed volume whose archives remain. */
  async backups(volume: string): Promise<ArchiveRow[]> {
    assertValidVolumeName(volume);
    return (await this.deps.restores.archivesOf(volume).list(volume)).map(({ name, manifest, ...rest }) => ({
      name,
      kind: manifest.kind ?? 'full',
      base: manifest.base ?? null,
      created: manifest.created,
      bytes: manifest.bytes,
      fileCount: manifest.fileCount,
      downtimeMs: manifest.durations?.downtimeMs ?? 0,
      durationMs: manifest.durations?.totalMs ?? 0,
      ...(manifest.durations?.phases ? { phases: manifest.durations.phases } : {}),
      snapshot: manifest.snapshotMode,
      quiesced: manifest.quiesced,
      target: (rest as { target?: string }).target ?? 'local',
    }));
  }

  restore(volume: string, from: string, progress: Progress, into?: string): Promise<RestoreRecord> {
    return this.deps.restores.inPlace(volume, from, progress, into);
  }

  verify(volume: string, which: string, progress: Progress): Promise<VerifyRecord[]> {
    return this.deps.restores.verify(volume, which, progress);
  }

  drill(volume: string, from: string, progress: Progress): Promise<DrillRecord> {
    return this.deps.restores.drill(volume, from, 'manual', progress);
  }

  swarmExport(): Promise<SwarmDefinitions> {
    return this.deps.swarm.export();
  }

  swarmRecreate(document: unknown, dryRun: boolean): Promise<RecreateReport> {
    return this.deps.swarm.recreate(document, dryRun);
  }

  private known(volume: string): void {
    assertValidVolumeName(volume);
    if (!this.deps.registry.find(volume)) throw new Error(`no such backupvol volume: ${volume}`);
  }
}
