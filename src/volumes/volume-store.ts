import { access, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomically } from './atomic-file';

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

/**
 * One folder per volume under `<dataDir>/volumes/<name>`: `volume.json` beside the `data/` tree. A folder
 * without volume.json is a volume whose create or remove was cut short, and is not listed.
 */
export class VolumeStore {
  readonly volumesDir: string;

  constructor(dataDir: string) {
    this.volumesDir = join(dataDir, 'volumes');
  }

  dataPath(name: string): string {
    return join(this.volumesDir, name, 'data');
  }

  /** Where a restore extracts before its tree replaces data/: beside it, so the swap is two renames. */
  restoreStagingPath(name: string): string {
    return join(this.volumesDir, name, 'restore-staging');
  }

  /**
   * Puts the restored tree in place of data/. Between the two renames data/ is missing: a crash there
   * is undone at the next start (recoverInterruptedRestore), so the volume has either its old or its
   * new content, never a mix. Returns the old tree's path, for the caller to delete.
   */
  async swapInRestored(name: string): Promise<string> {
    const previous = this.previousDataPath(name);
    await rm(previous, { recursive: true, force: true });
    await rename(this.dataPath(name), previous);
    await rename(this.restoreStagingPath(name), this.dataPath(name));
    await syncDirectory(join(this.volumesDir, name));
    return previous;
  }

  /** Undoes what a restore cut short left behind; called for every volume before it is used. */
  async recoverInterruptedRestore(name: string): Promise<void> {
    const previous = this.previousDataPath(name);
    if (!(await exists(this.dataPath(name))) && (await exists(previous))) await rename(previous, this.dataPath(name));
    await rm(previous, { recursive: true, force: true });
    await rm(this.restoreStagingPath(name), { recursive: true, force: true });
  }

  async loadAll(): Promise<{ records: VolumeRecord[]; problems: string[] }> {
    await mkdir(this.volumesDir, { recursive: true });
    const records: VolumeRecord[] = [];
    const problems: string[] = [];
    for (const entry of await readdir(this.volumesDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      try {
        const record = await this.read(entry.name);
        if (record) records.push(record);
      } catch (error) {
        problems.push(`volume ${entry.name}: ${(error as Error).message}`);
      }
    }
    return { records, problems };
  }

  private previousDataPath(name: string): string {
    return join(this.volumesDir, name, 'data.previous');
  }

  async read(name: string): Promise<VolumeRecord | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.volumesDir, name, RECORD_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return parseRecord(name, text);
  }

  /** Creates the data folder first, then the record: a volume is listed only once its data exists. */
  async create(record: VolumeRecord): Promise<void> {
    await mkdir(this.dataPath(record.name), { recursive: true, mode: 0o755 });
    await this.save(record);
  }

  async save(record: VolumeRecord): Promise<void> {
    await writeFileAtomically(join(this.volumesDir, record.name, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Removes the record first, so an interrupted delete leaves a folder that is not listed again. */
  async delete(name: string): Promise<void> {
    await rm(join(this.volumesDir, name, RECORD_FILE), { force: true });
    await rm(join(this.volumesDir, name), { recursive: true, force: true });
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
