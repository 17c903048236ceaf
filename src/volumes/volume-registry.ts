import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../shared/logger';
import type { Mounter } from './bind-mounter';
import type { VolumeDriver, VolumeInfo, VolumeSummary } from './volume-driver';
import { KeyedLock } from '../shared/keyed-lock';
import { parseVolumeOptions, type OptionDefaults } from './volume-options';
import { type Encryption, type VolumeOptions } from '../vocabulary/volume-options';
import { assertValidVolumeName } from '../vocabulary/volume-name';
import type { VolumeRecord, VolumeStore } from './volume-store';

/** A known volume: its persisted record and the options derived from it with today's defaults. */
export interface Volume {
  readonly record: VolumeRecord;
  /** Undefined when the options no longer parse (e.g. a plugin default changed to a bad value). */
  readonly options?: VolumeOptions;
  readonly optionsError?: string;
}

/** Whoever needs to follow volumes coming and going (the runs: schedules, run state, staging). */
export interface VolumeObserver {
  /** Awaited, so what the observer persists about a volume is loaded before the socket opens. */
  volumeAdded(volume: Volume): Promise<void>;
  /**
   * Awaited before the volume's lock is taken: lets work in progress on the volume end (work that may
   * itself need the lock, like a restore's swap).
   */
  volumeRemoving(name: string): Promise<void>;
  /** Awaited before the volume's data goes, so its schedule and staging go first. */
  volumeRemoved(name: string): Promise<void>;
}

/** What `docker volume inspect` shows in Status beside the registry's own fields (runs/status-view.ts). */
export type StatusSource = (volume: Volume) => object;

export interface VolumeRegistryDeps {
  store: VolumeStore;
  mounter: Mounter;
  mountRoot: string;
  defaults: OptionDefaults;
  /**
   * Fills a new volume's restore staging from `restore-from` (see restore/stage-archive.ts); the registry
   * then swaps it in before Create answers, so the first container already sees the restored content.
   */
  stageRestoreFrom?: (volume: string, source: string, stagingDir: string, options: VolumeOptions) => Promise<void>;
  /**
   * Checks what options alone cannot: that the plugin settings a volume's targets need are there. Throws
   * with the missing setting's name, and create fails with that message.
   */
  checkOptions?: (options: VolumeOptions) => void;
  logger: Logger;
}

/**
 * The volume driver: every protocol call lands here. Get, List and Path are answered from memory; the
 * others change disk state under a per-volume lock and persist before they answer.
 */
export class VolumeRegistry implements VolumeDriver {
  private readonly volumes = new Map<string, Volume>();
  private readonly lock = new KeyedLock();
  private observer?: VolumeObserver;
  private describe?: StatusSource;
  /**
   * Mount IDs the engine gave this process. IDs carried over a restart are unconfirmed: an Unmount the
   * engine sent while the plugin was down is lost, and such an ID must not make a volume undeletable.
   */
  private readonly confirmedMountIds = new Set<string>();
  private trashEmptying: Promise<void> = Promise.resolve();

  constructor(private readonly deps: VolumeRegistryDeps) {}

  /** Set before load(), so the observer hears of every volume, adopted or created. */
  observe(observer: VolumeObserver, describe?: StatusSource): void {
    this.observer = observer;
    this.describe = describe;
  }

  /**
   * Reads persisted state and puts aside (renames only) what crashes left: safe before the engine serves
   * its API, and quick, so the socket opens at once. The deleting is emptyTrash(), in the background.
   */
  async load(): Promise<void> {
    const { records, problems, orphans } = await this.deps.store.loadAll();
    for (const problem of problems) this.deps.logger.error(`Skipping unreadable volume state: ${problem}`);
    for (const orphan of orphans) {
      this.deps.logger.warn(`Deleting ${orphan}: a folder without a volume record, left by a create or remove that was cut short`);
      await this.deps.store.moveToTrash(join(this.deps.store.volumesDir, orphan)).catch((error: Error) => {
        this.deps.logger.error(`Could not put aside the leftover folder ${orphan}: ${error.message}`);
      });
    }
    for (const record of records) {
      await this.deps.store.recoverInterruptedRestore(record.name).catch((error: Error) => {
        this.deps.logger.error(`Could not clean up an interrupted restore of volume ${record.name}: ${error.message}`);
      });
      await this.adopt(record);
    }
    this.deps.logger.info(`Loaded ${records.length} volume(s) from state`);
  }

  /**
   * Deletes the trees of removed volumes and interrupted restores. Not awaited by Remove (a timed-out
   * `docker volume rm` must not delete the data after the engine gave up) nor by the start; one emptying
   * at a time, and one more after it when asked meanwhile.
   */
  emptyTrash(): Promise<void> {
    this.trashEmptying = this.trashEmptying.then(() =>
      this.deps.store.emptyTrash().catch((error: Error) => {
        this.deps.logger.error(`Could not delete removed data: ${error.message}`);
      }),
    );
    return this.trashEmptying;
  }

  /**
   * Puts back the bind mounts of volumes that were in use when the plugin last stopped (the engine takes
   * the propagated mount down with the plugin); the others are bound again at their first Mount.
   */
  async restoreMounts(): Promise<void> {
    for (const volume of this.volumes.values()) {
      if (volume.record.mountIds.length === 0) continue;
      const name = volume.record.name;
      await this.lock.run(name, () => this.ensureMounted(name)).catch((error: Error) => {
        this.deps.logger.error(`Could not restore the mount of volume ${name}: ${error.message}`);
      });
    }
  }

  all(): Volume[] {
    return [...this.volumes.values()];
  }

  find(name: string): Volume | undefined {
    return this.volumes.get(name);
  }

  /**
   * The backup-encryption a volume asks for, also when its options no longer parse (then as given at
   * create, `none` when not given); undefined for a volume that is gone.
   */
  encryptionOf(name: string): Encryption | undefined {
    const volume = this.volumes.get(name);
    if (!volume) return undefined;
    if (volume.options) return volume.options.encryption;
    const given = volume.record.options['backup-encryption'];
    return given === 'gpg' || given === 'age' ? given : 'none';
  }

  restoreStagingPath(name: string): string {
    return this.deps.store.restoreStagingPath(name);
  }

  drillScratchPath(name: string): string {
    return this.deps.store.drillScratchPath(name);
  }

  dataPath(name: string): string {
    return this.deps.store.dataPath(name);
  }

  async create(name: string, options: Record<string, string>): Promise<void> {
    assertValidVolumeName(name);
    await this.lock.run(name, async () => {
      if (this.volumes.has(name)) {
        // The engine re-sends Create for volumes it already knows (e.g. after a plugin reinstall). Not
        // checked again: a volume whose key or target setting went away is kept, as at start.
        this.deps.logger.debug(`Volume ${name} exists already; create is a no-op`);
        return;
      }
      const parsed = parseVolumeOptions(options, this.deps.defaults);
      this.deps.checkOptions?.(parsed);
      const record: VolumeRecord = { name, createdAt: new Date().toISOString(), options: { ...options }, mountIds: [] };
      const restoreFrom = parsed.restoreFrom;
      await this.deps.store.create(record, restoreFrom ? () => this.populate(name, restoreFrom, parsed) : undefined);
      const volume: Volume = { record, options: parsed };
      this.volumes.set(name, volume);
      await this.observer?.volumeAdded(volume);
      // Bound now, and kept bound until Remove: Mount then answers without spawning mount(8), which costs
      // milliseconds. A bind that fails here is made again by Mount, which reports its error.
      await this.ensureMounted(name).catch((error: Error) => this.deps.logger.warn(`Volume ${name}: bind mount deferred to Mount: ${error.message}`));
      this.deps.logger.info(`Created volume ${name}`, { options });
    });
  }

  /**
   * Swaps a tree extracted into the volume's restore staging in place of its data, under the volume's
   * lock. The bind mount holds the old directory, so it is taken down and put back around the swap; the
   * caller has stopped every container that uses the volume. Returns the old tree, for deletion.
   */
  async swapInRestored(name: string): Promise<string> {
    return this.lock.run(name, async () => {
      this.required(name);
      await this.unbindIfMounted(name);
      try {
        return await this.deps.store.swapInRestored(name);
      } finally {
        await this.ensureMounted(name);
      }
    });
  }

  /** restore-from at create; a failure deletes the half-made volume, and Create fails with the reason. */
  private async populate(name: string, source: string, options: VolumeOptions): Promise<void> {
    const stage = this.deps.stageRestoreFrom;
    try {
      if (!stage) throw new Error('restoring is not wired in this process');
      await stage(name, source, this.deps.store.restoreStagingPath(name), options);
      await this.deps.store.moveToTrash(await this.deps.store.swapInRestored(name));
    } catch (error) {
      await this.deps.store.delete(name);
      throw new Error(`restore-from=${source}: ${(error as Error).message}`);
    } finally {
      void this.emptyTrash();
    }
    this.deps.logger.info(`Volume ${name} starts with the content of ${source}`);
  }

  async remove(name: string): Promise<void> {
    const removing = this.volumes.get(name);
    if (removing) await this.observer?.volumeRemoving(name);
    try {
      await this.removeUnderLock(name);
    } catch (error) {
      // Refused (still mounted) or failed: the volume stays, and so must its schedule.
      const kept = this.volumes.get(name);
      if (removing && kept) await this.observer?.volumeAdded(kept);
      throw error;
    }
  }

  private async removeUnderLock(name: string): Promise<void> {
    await this.lock.run(name, async () => {
      const volume = this.required(name);
      const holders = volume.record.mountIds.filter((id) => this.confirmedMountIds.has(id));
      if (holders.length > 0) {
        throw new Error(`volume ${name} is in use: still mounted for ${holders.length} mount(s) (${holders.join(', ')})`);
      }
      if (volume.record.mountIds.length > 0) {
        this.deps.logger.warn(`Volume ${name}: dropping mount(s) left from before the plugin restarted: ${volume.record.mountIds.join(', ')}`);
      }
      await this.unbindIfMounted(name);
      await this.observer?.volumeRemoved(name);
      await this.deps.store.delete(name);
      // An empty directory once unbound; anything else there is not ours to delete.
      await rmdir(this.mountpoint(name)).catch(() => undefined);
      this.volumes.delete(name);
      this.deps.logger.info(`Removed volume ${name}; its data is being deleted`);
      void this.emptyTrash();
    });
  }

  async mount(name: string, mountId: string): Promise<string> {
    return this.lock.run(name, async () => {
      const volume = this.required(name);
      await this.ensureMounted(name);
      this.confirmedMountIds.add(mountId);
      if (!volume.record.mountIds.includes(mountId)) {
        await this.saveMountIds(volume, [...volume.record.mountIds, mountId]);
      }
      return this.mountpoint(name);
    });
  }

  async unmount(name: string, mountId: string): Promise<void> {
    await this.lock.run(name, async () => {
      const volume = this.required(name);
      this.confirmedMountIds.delete(mountId);
      const remaining = volume.record.mountIds.filter((id) => id !== mountId);
      // The bind stays (see create): the next Mount is bookkeeping only.
      if (remaining.length !== volume.record.mountIds.length) await this.saveMountIds(volume, remaining);
    });
  }

  async path(name: string): Promise<string> {
    this.required(name);
    return this.mountpoint(name);
  }

  async get(name: string): Promise<VolumeInfo> {
    const volume = this.required(name);
    return { ...this.summary(volume), Status: this.status(volume) };
  }

  async list(): Promise<VolumeSummary[]> {
    return this.all().map((volume) => this.summary(volume));
  }

  private async adopt(record: VolumeRecord): Promise<void> {
    let volume: Volume;
    try {
      // Keys are checked at create only: a volume whose key settings went away keeps its schedule, and each
      // run fails saying which setting is missing (status, log, notification) instead of silently stopping.
      const defaults = { ...this.deps.defaults, missingKeySetting: () => undefined };
      volume = { record, options: parseVolumeOptions(record.options, defaults) };
    } catch (error) {
      volume = { record, optionsError: (error as Error).message };
      this.deps.logger.error(`Volume ${record.name} has options that no longer parse: ${volume.optionsError}`);
    }
    this.volumes.set(record.name, volume);
    await this.observer?.volumeAdded(volume);
  }

  private async ensureMounted(name: string): Promise<void> {
    const source = this.dataPath(name);
    const target = this.mountpoint(name);
    await mkdir(target, { recursive: true });
    if (await this.deps.mounter.isMounted(source, target)) return;
    await this.deps.mounter.bind(source, target);
  }

  private async unbindIfMounted(name: string): Promise<void> {
    const target = this.mountpoint(name);
    if (await this.deps.mounter.isMounted(this.dataPath(name), target)) await this.deps.mounter.unbind(target);
  }

  private async saveMountIds(volume: Volume, mountIds: string[]): Promise<void> {
    const record = { ...volume.record, mountIds };
    await this.deps.store.saveMountIds(record.name, mountIds);
    this.volumes.set(record.name, { ...volume, record });
  }

  private required(name: string): Volume {
    const volume = this.volumes.get(name);
    if (!volume) throw new Error(`no such volume: ${name}`);
    return volume;
  }

  private mountpoint(name: string): string {
    return join(this.deps.mountRoot, name);
  }

  private summary(volume: Volume): VolumeSummary {
    const { name, createdAt } = volume.record;
    return { Name: name, Mountpoint: this.mountpoint(name), CreatedAt: createdAt };
  }

  private status(volume: Volume): Record<string, unknown> {
    const base: Record<string, unknown> = {
      mounted: volume.record.mountIds.length > 0,
    };
    if (volume.optionsError) base.error = volume.optionsError;
    return { ...base, ...this.describe?.(volume) };
  }
}
