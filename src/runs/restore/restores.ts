import type { ArchiveSource } from '../../targets/target-reader';
import type { StoredArchive } from '../../targets/target';
import { parseOwnRestoreSource, parseRestoreSource } from '../../vocabulary/restore-source';
import type { DrillRecord, Progress, RestoreRecord, VerifyRecord } from '../../vocabulary/run-record';
import type { TargetName, VolumeOptions } from '../../vocabulary/volume-options';
import { assertValidVolumeName } from '../../vocabulary/volume-name';
import type { VolumeRegistry } from '../../volumes/volume-registry';
import type { OutcomeRecorder } from '../outcome-recorder';
import type { RunGate } from '../run-gate';
import type { VolumeEncryption } from './archive-encryption';
import type { RunProgress } from '../run-progress';
import { pointAndLinks, resolvePoint } from './resolve-archive';
import type { RestoreDeps } from './restore-in-place';

export interface RestoresDeps {
  registry: VolumeRegistry;
  gate: RunGate;
  recorder: OutcomeRecorder;
  /** What a restore needs but the archive source, which depends on the volume (see archivesOf). */
  restore: Omit<RestoreDeps, 'target'>;
  /** Reads archives from the named targets, in order (TargetSet.reader). */
  readArchives(targets: readonly TargetName[]): ArchiveSource;
  /** Every target whose settings are complete, local first. */
  usableTargets(): TargetName[];
  /** Makes the volume's next backup a full archive (ChainIndexes.forget): an archive it would build on failed verify. */
  restartChain?(volume: string): Promise<void>;
  /** The running restores' and drills' progress, for the Status (runs.ts makes it). */
  progress?: RunProgress;
  /** Told of every finished drill (runs/notifier.ts); it never throws and is not waited for. */
  notifier?: { drillFinished(volume: string, record: DrillRecord): Promise<void> };
}

/**
 * Everything that reads archives back: a restore over a volume (or into a new one), `restore-from` at
 * create, and verify. Each archive must agree with the encryption of the volumes it goes from and into,
 * while they exist. A restore takes the volume's turn and one of the MAX_CONCURRENT_BACKUPS slots (it
 * stops containers like a backup); a verify the volume's turn only.
 */
export class Restores {
  /** Volumes with a drill running. */
  private readonly drilling = new Set<string>();

  constructor(private readonly deps: RestoresDeps) {}

  /**
   * Restores one of `volume`'s archives (`from`: latest, or the name of one of its archives) over its own
   * content, or over the content of `into`, a new volume (`backupvol restore --into` makes it first).
   */
  async inPlace(volume: string, from: string, asked: Progress, into?: string): Promise<RestoreRecord> {
    assertValidVolumeName(volume);
    const source = parseOwnRestoreSource(from, volume);
    const restored = into ?? volume;
    const known = this.known(restored);
    const encryption = this.encryptionOf(into ? [restored, volume] : [volume]);
    const { gate, registry } = this.deps;
    const record = await gate.turn(restored, 'restore', () => this.tracked(restored, 'restore', asked, (progress) =>
      gate.slot(
        () =>
          load('restore-in-place').restoreInPlace(
            { ...this.deps.restore, target: this.archivesOf(volume) },
            {
              volume: restored,
              options: known.options,
              source,
              encryption,
              stagingDir: registry.restoreStagingPath(restored),
              swapIn: () => registry.swapInRestored(restored),
              onProgress: ({ archive, bytes, totalBytes }) => progress({ phase: 'extracting', archive, bytes, totalBytes }),
            },
          ),
        (phase) => progress({ phase }),
      ),
    ));
    await this.deps.recorder.record(restored, { lastRestore: record });
    return record;
  }

  /**
   * `restore-from` of a new volume, into its restore staging (the registry swaps it in before Create
   * answers). It reads the new volume's own targets: `-o backup-target=s3 -o restore-from=old@latest`
   * starts from old's newest archive in S3.
   */
  async atCreate(volume: string, from: string, stagingDir: string, options: VolumeOptions): Promise<void> {
    const source = parseRestoreSource(from);
    const reader = this.deps.readArchives(options.targets);
    await load('stage-archive').stageArchive(reader, {
      sourceVolume: source.volume,
      ...pointAndLinks(await resolvePoint(reader, source)),
      stagingDir,
      keys: this.deps.restore.keys,
      encryption: [{ volume, encryption: options.encryption }, ...this.encryptionOf([source.volume])],
      keepSpecialBits: this.deps.restore.keepSpecialBits,
    });
  }

  /**
   * `which`: latest, all, or an archive name: that point and every archive it needs. Results in the order
   * checked (newest first).
   */
  async verify(volume: string, which: string, progress: Progress): Promise<VerifyRecord[]> {
    assertValidVolumeName(volume);
    const target = this.archivesOf(volume);
    const archives = which === 'all' ? await target.list(volume) : await this.linksOf(target, volume, which);
    if (archives.length === 0) throw new Error(`volume ${volume} has no complete archive in target ${target.name}`);
    const encryption = this.encryptionOf([volume]);
    const verifyAll = async () => {
      const records: VerifyRecord[] = [];
      for (const archive of archives) {
        const report = (bytes: number) => progress({ phase: 'verifying', archive: archive.name, bytes, totalBytes: archive.manifest.bytes });
        records.push(await load('verify-archive').verifyArchive(target, volume, archive, { onProgress: report, keys: this.deps.restore.keys, encryption }));
      }
      return records;
    };
    // A volume that is gone has no turn to take and no status to update, but its archives can be checked.
    if (!this.deps.registry.find(volume)) return verifyAll();
    const records = await this.deps.gate.turn(volume, 'verify', verifyAll);
    const failed = records.find((record) => record.result !== 'ok');
    if (failed) await this.deps.restartChain?.(volume);
    await this.deps.recorder.record(volume, { lastVerify: failed ?? records[0] });
    return records;
  }

  /**
   * A restore drill of one of the volume's points (`from`: latest, or an archive name), read from the
   * first of its targets that holds it, into a scratch folder that is deleted afterwards (drill.ts). It
   * stops nothing and does not take the volume's turn: a backup that comes due meanwhile runs (a drill
   * of a big volume must not cost a point in time). One drill per volume at a time (one scratch folder).
   */
  async drill(volume: string, from: string, trigger: DrillRecord['trigger'], asked: Progress): Promise<DrillRecord> {
    const source = parseOwnRestoreSource(from, volume);
    this.known(volume);
    if (this.drilling.has(volume)) throw new Error(`volume ${volume} is busy: a drill of it is running`);
    this.drilling.add(volume);
    let record: DrillRecord;
    try {
      record = await this.tracked(volume, 'drill', asked, (progress) => load('drill').drillRestore(this.archivesOf(volume), {
        source,
        trigger,
        scratchDir: this.deps.registry.drillScratchPath(volume),
        keys: this.deps.restore.keys,
        encryption: this.encryptionOf([volume]),
        keepSpecialBits: this.deps.restore.keepSpecialBits,
        onProgress: (archive, bytes, totalBytes) => progress({ phase: 'drilling', archive, bytes, totalBytes }),
      }));
    } finally {
      this.drilling.delete(volume);
    }
    await this.deps.recorder.record(volume, { lastDrill: record });
    void this.deps.notifier?.drillFinished(volume, record).catch(() => undefined);
    return record;
  }

  /** Runs work with its progress shown in the Status too, while it runs. */
  private async tracked<T>(volume: string, activity: string, asked: Progress, work: (progress: Progress) => Promise<T>): Promise<T> {
    const tracking = this.deps.progress?.track(volume, activity, asked);
    try {
      return await work(tracking?.report ?? asked);
    } finally {
      tracking?.end();
    }
  }

  /** The point `which` names and the links it needs, newest first. */
  private async linksOf(target: ArchiveSource, volume: string, which: string): Promise<StoredArchive[]> {
    return (await resolvePoint(target, parseOwnRestoreSource(which, volume))).reverse();
  }

  /**
   * Where a volume's archives are read from: its own targets in the order it lists them (the first that
   * holds an archive complete serves it); for a volume that is gone, or whose options no longer parse,
   * every usable target, local first.
   */
  archivesOf(volume: string): ArchiveSource {
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

interface RestoreCode {
  'restore-in-place': typeof import('./restore-in-place');
  'stage-archive': typeof import('./stage-archive');
  'verify-archive': typeof import('./verify-archive');
  drill: typeof import('./drill');
}

/** The extracting code (archive, ciphers, tar) is read at a volume's first restore, verify or drill, not at start. */
function load<Name extends keyof RestoreCode>(name: Name): RestoreCode[Name] {
  return require(`./${name}`) as RestoreCode[Name];
}
