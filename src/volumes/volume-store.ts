import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-file';

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
