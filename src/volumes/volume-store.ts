import { randomUUID } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { syncDirectory, writeFileAtomically } from '../shared/atomic-file';
import { removeTree } from '../shared/remove-tree';

/** What is persisted for a volume. Nothing derived, nothing secret. */
export interface VolumeRecord {
  name: string;
  createdAt: string;
  /** The options exactly as given at create; defaults are applied when they are read. */
  options: Record<string, string>;
  /** The engine's mount IDs that hold the volume mounted: a set, so a repeated Mount cannot leak a count. */
  mountIds: string[];
}

const RECORD_FILE = 'volume.json';
/** The live mount IDs (saveMountIds); records written before it existed hold them in mountIds. */
const MOUNTS_FILE = 'mounts.json';

/**
 * One folder per volume under `<dataDir>/volumes/<name>`: `volume.json` beside the `data/` tree. The record
 * is written last at create (after restore-from filled data/) and a remove renames the whole folder away
 * at once, so a folder without volume.json is only ever what a crash left: it is not listed, and not
 * inherited by a new volume of that name. Trees that go are renamed into `<dataDir>/trash/` (one rename,
 * the same filesystem) and deleted from there in the background: deleting a big tree takes long, and
 * neither the engine's calls nor the plugin's start may wait for it.
 */
export class VolumeStore {
  readonly volumesDir: string;
  private readonly trashDir: string;

  constructor(dataDir: string) {
    this.volumesDir = join(dataDir, 'volumes');
    this.trashDir = join(dataDir, 'trash');
  }

  dataPath(name: string): string {
    return join(this.volumesDir, name, 'data');
  }

  /** Where a restore extracts before its tree replaces data/: beside it, so the swap is two renames. */
  restoreStagingPath(name: string): string {
    return join(this.volumesDir, name, 'restore-staging');
  }

  /** Where a restore drill extracts a point to check it; deleted when the drill ends. */
  drillScratchPath(name: string): string {
    return join(this.volumesDir, name, 'drill-scratch');
  }

  /**
   * Puts the restored tree in place of data/. Between the two renames data/ is missing: a crash there
   * is undone at the next start (recoverInterruptedRestore), so the volume has either its old or its
   * new content, never a mix. Returns the old tree's path, for the caller to delete.
   */
  async swapInRestored(name: string): Promise<string> {
    const previous = this.previousDataPath(name);
    await removeTree(previous);
    await rename(this.dataPath(name), previous);
    await rename(this.restoreStagingPath(name), this.dataPath(name));
    await syncDirectory(join(this.volumesDir, name));
    return previous;
  }

  /**
   * Undoes what a restore (or a drill) cut short left behind; called for every volume before it is used. Renames
   * only (the leftovers go to the trash), so it is quick whatever their size.
   */
  async recoverInterruptedRestore(name: string): Promise<void> {
    const previous = this.previousDataPath(name);
    if (!(await exists(this.dataPath(name))) && (await exists(previous))) await rename(previous, this.dataPath(name));
    await this.moveToTrash(previous);
    await this.moveToTrash(this.restoreStagingPath(name));
    await this.moveToTrash(this.drillScratchPath(name));
  }

  /** Records, unreadable records, and folders without a record (`orphans`: what a crashed create or remove left). */
  async loadAll(): Promise<{ records: VolumeRecord[]; problems: string[]; orphans: string[] }> {
    await mkdir(this.volumesDir, { recursive: true });
    const records: VolumeRecord[] = [];
    const problems: string[] = [];
    const orphans: string[] = [];
    for (const entry of await readdir(this.volumesDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      try {
        const record = await this.read(entry.name);
        if (record) records.push(record);
        else orphans.push(entry.name);
      } catch (error) {
        problems.push(`volume ${entry.name}: ${(error as Error).message}`);
      }
    }
    return { records, problems, orphans };
  }

  /** Renames PATH into the trash (nothing when it does not exist); emptyTrash() deletes it later. */
  async moveToTrash(path: string): Promise<void> {
    await mkdir(this.trashDir, { recursive: true });
    try {
      await rename(path, join(this.trashDir, `${basename(path)}-${randomUUID()}`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
  }

  /** Deletes what is in the trash, including what a crash left there. Slow for big trees: call in the background. */
  async emptyTrash(): Promise<void> {
    for (const name of await readdir(this.trashDir).catch(() => [] as string[])) {
      await removeTree(join(this.trashDir, name));
    }
  }

  private previousDataPath(name: string): string {
    return join(this.volumesDir, name, 'data.previous');
  }

  async read(name: string): Promise<VolumeRecord | undefined> {
    const text = await readIfPresent(join(this.volumesDir, name, RECORD_FILE));
    if (text === undefined) return undefined;
    const record = parseRecord(name, text);
    const mountIds = await this.readMountIds(name);
    return mountIds === undefined ? record : { ...record, mountIds };
  }

  /** Undefined when there is no mounts file yet; an unreadable one (a power loss) is no mount. */
  private async readMountIds(name: string): Promise<string[] | undefined> {
    const text = await readIfPresent(join(this.volumesDir, name, MOUNTS_FILE));
    if (text === undefined) return undefined;
    try {
      const ids = JSON.parse(text) as unknown;
      return Array.isArray(ids) ? [...new Set(ids.map(String))] : [];
    } catch {
      return [];
    }
  }

  /**
   * Creates the data folder, lets `fill` put the content in place (restore-from), and writes the record
   * last: a volume is listed only once its data is complete, and a crash before that leaves an orphan
   * that a repeated Create replaces rather than adopts.
   */
  async create(record: VolumeRecord, fill?: () => Promise<void>): Promise<void> {
    const folder = join(this.volumesDir, record.name);
    if ((await exists(folder)) && !(await exists(join(folder, RECORD_FILE)))) await this.moveToTrash(folder);
    await mkdir(this.dataPath(record.name), { recursive: true, mode: 0o755 });
    await fill?.();
    await this.save(record);
  }

  async save(record: VolumeRecord): Promise<void> {
    await writeFileAtomically(join(this.volumesDir, record.name, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
  }

  /**
   * The live mount IDs, beside the record and without fsync: Mount waits for this write, and an fsync is
   * most of its time. A killed plugin loses nothing (the page cache holds the rename); a power loss may
   * lose the file, and then it is read as no mount at all, which is the truth after a reboot (no container
   * of before runs). The record itself, which holds the options, is still written durably.
   */
  async saveMountIds(name: string, mountIds: readonly string[]): Promise<void> {
    await writeFileAtomically(join(this.volumesDir, name, MOUNTS_FILE), `${JSON.stringify(mountIds)}\n`, { durable: false });
  }

  /**
   * The record and the data go together, in one rename into the trash: quick whatever the size, and a
   * crash leaves either the whole volume or none of it. emptyTrash() deletes the tree.
   */
  async delete(name: string): Promise<void> {
    await this.moveToTrash(join(this.volumesDir, name));
    await syncDirectory(this.volumesDir);
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function parseRecord(name: string, text: string): VolumeRecord {
  const value = JSON.parse(text) as Partial<VolumeRecord>;
  if (value.name !== name || typeof value.createdAt !== 'string' || typeof value.options !== 'object') {
    throw new Error('volume.json is not a backupvol volume record');
  }
  return {
    name,
    createdAt: value.createdAt,
    options: { ...value.options },
    mountIds: Array.isArray(value.mountIds) ? [...new Set(value.mountIds.map(String))] : [],
  };
}
