import type { BackupCoordinator } from './backup-coordinator';
import type { Logger } from '../shared/logger';
import { restoreInPlace, type RestoreDeps } from './restore/restore-in-place';
import type { VolumeEncryption } from './restore/archive-encryption';
import { parseOwnRestoreSource } from '../vocabulary/restore-source';
import { resolveArchive } from './restore/resolve-archive';
import { verifyArchive } from './restore/verify-archive';
import type { RestoreRecord, RunRecord, VerifyRecord } from '../vocabulary/run-record';
import type { StoredArchive } from '../targets/target';
import type { ArchiveSource } from '../targets/target-reader';
import type { TargetName } from '../vocabulary/volume-options';
import type { VolumeActivity } from './volume-activity';
import type { VolumeRegistry } from '../volumes/volume-registry';
import { assertValidVolumeName } from '../vocabulary/volume-name';

/** How far a long operation got, for the CLI's progress line. */
export interface ProgressReport {
  phase: string;
  archive?: string;
  bytes?: number;
  totalBytes?: number;
}
export type Progress = (report: ProgressReport) => void;

export interface VolumeRow {
  name: string;
  schedule: string;
  nextRun: string | null;
  archives: number;
  target: string;
  busy: string | null;
  lastRun: { time: string; result: string; archive: string | null; error: string | null } | null;
}

export interface ArchiveRow {
  name: string;
  created: string;
  bytes: number;
  fileCount: number;
  downtimeMs: number;
  durationMs: number;
  snapshot: string;
  quiesced: boolean;
  /** The target it is read from: the first of the volume's targets that holds it. */
  target: string;
}

export interface AdminDeps {
  registry: VolumeRegistry;
  coordinator: BackupCoordinator;
  activity: VolumeActivity;
  /** What a restore needs but the archive source, which depends on the volume (see archivesOf). */
  restore: Omit<RestoreDeps, 'target'>;
  /** Reads archives from the named targets, in order (TargetSet.reader). */
  readArchives(targets: readonly TargetName[]): ArchiveSource;
  /** Every target whose settings are complete, local first. */
  usableTargets(): TargetName[];
  logger: Logger;
}

/**
 * What the host CLI asks of the plugin (the admin endpoints, not part of the Docker protocol). Backups go
 * through the coordinator, exactly as scheduled ones do; restores and verifies take the volume's activity
 * slot, so nothing else runs on the volume meanwhile, and restores also one of the slots of
 * MAX_CONCURRENT_BACKUPS, since they stop containers like a backup.
 */
export class AdminService {
  constructor(private readonly deps: AdminDeps) {}

  list(): VolumeRow[] {
    return this.deps.registry.all().map((volume) => {
      const status = this.deps.coordinator.statusOf(volume) as {
        schedule: string;
        nextRun: string | null;
        archives: number;
        target: string;
        lastRun: VolumeRow['lastRun'];
      };
      const last = status.lastRun;
      return {
        name: volume.record.name,
        schedule: status.schedule,
        nextRun: status.nextRun,
        archives: status.archives,
        target: status.target,
        busy: this.deps.activity.of(volume.record.name) ?? null,
        lastRun: last ? { time: last.time, result: last.result, archive: last.archive, error: last.error } : null,
      };
    });
  }

  async backup(volume: string): Promise<RunRecord> {
    this.known(volume);
    return this.deps.coordinator.backup(volume, 'manual');
  }

  /** Complete archives of a volume, newest first; works for a removed volume whose archives remain. */
  async backups(volume: string): Promise<ArchiveRow[]> {
    assertValidVolumeName(volume);
    return (await this.archivesOf(volume).list(volume)).map(({ name, manifest, ...rest }) => ({
      name,
      created: manifest.created,
      bytes: manifest.bytes,
      fileCount: manifest.fileCount,
      downtimeMs: manifest.durations?.downtimeMs ?? 0,
      durationMs: manifest.durations?.totalMs ?? 0,
      snapshot: manifest.snapshotMode,
      quiesced: manifest.quiesced,
      target: (rest as { target?: string }).target ?? 'local',
    }));
  }

  /**
   * Restores one of `volume`'s archives (`from`: latest, or the name of one of its archives) over its own
   * content, or over the content of `into`, a new volume (`backupvol restore --into` makes it first).
   */
  async restore(volume: string, from: string, progress: Progress, into?: string): Promise<RestoreRecord> {
    assertValidVolumeName(volume);
    const source = parseOwnRestoreSource(from, volume);
    const restored = into ?? volume;
    const known = this.known(restored);
    // The archive must agree with the volume restored into and, when it still exists, the one it is from.
    const encryption = this.encryptionOf(into ? [restored, volume] : [volume]);
    const record = await this.deps.activity.run(restored, 'restore', async () => {
      progress({ phase: 'waiting for the Docker API' });
      await this.deps.coordinator.dockerReady;
      progress({ phase: 'waiting for a free slot (MAX_CONCURRENT_BACKUPS)' });
      return this.deps.coordinator.inRunSlot(() => restoreInPlace({ ...this.deps.restore, target: this.archivesOf(volume) }, {
        volume: restored,
        options: known.options,
        source,
        encryption,
        stagingDir: this.deps.registry.restoreStagingPath(restored),
        swapIn: () => this.deps.registry.swapInRestored(restored),
        onProgress: ({ archive, bytes, totalBytes }) => progress({ phase: 'extracting', archive, bytes, totalBytes }),
      }));
    });
    await this.deps.coordinator.remember(restored, { lastRestore: record });
    return record;
  }

  /** `which`: latest, all, or an archive name. Results in the order checked (newest first). */
  async verify(volume: string, which: string, progress: Progress): Promise<VerifyRecord[]> {
    assertValidVolumeName(volume);
    const target = this.archivesOf(volume);
    const archives: StoredArchive[] =
      which === 'all' ? await target.list(volume) : [await resolveArchive(target, parseOwnRestoreSource(which, volume))];
    if (archives.length === 0) throw new Error(`volume ${volume} has no complete archive in target ${target.name}`);
    const encryption = this.encryptionOf([volume]);
    const verifyAll = async () => {
      const records: VerifyRecord[] = [];
      for (const archive of archives) {
        const report = (bytes: number) => progress({ phase: 'verifying', archive: archive.name, bytes, totalBytes: archive.manifest.bytes });
        records.push(await verifyArchive(target, volume, archive, { onProgress: report, keys: this.deps.restore.keys, encryption }));
      }
      return records;
    };
    // A volume that is gone has no activity slot and no status to update, but its archives can be checked.
    if (!this.deps.registry.find(volume)) return verifyAll();
    const records = await this.deps.activity.run(volume, 'verify', verifyAll);
    const lastVerify = records.find((record) => record.result !== 'ok') ?? records[0];
    await this.deps.coordinator.remember(volume, { lastVerify });
    return records;
  }

  /**
   * Where a volume's archives are read from: its own targets in the order it lists them (the first that
   * holds an archive complete serves it); for a volume that is gone, or whose options no longer parse,
   * every usable target, local first.
   */
  private archivesOf(volume: string): ArchiveSource {
    const targets = this.deps.registry.find(volume)?.options?.targets ?? this.deps.usableTargets();
    return this.deps.readArchives(targets);
  }

  /** What each named volume that still exists says of encryption; a volume that is gone imposes nothing. */
  private encryptionOf(names: readonly string[]): VolumeEncryption[] {
    return names.flatMap((name) => {
      const encryption = this.deps.registry.encryptionOf(name);
      return encryption ? [{ volume: name, encryption }] : [];
    });
  }

  private known(volume: string) {
    assertValidVolumeName(volume);
    const found = this.deps.registry.find(volume);
    if (!found) throw new Error(`no such backupvol volume: ${volume}`);
    return found;
  }
}
