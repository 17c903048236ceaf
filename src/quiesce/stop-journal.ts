import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../volumes/atomic-file';
import type { PlannedScale, PlannedStop } from './plan-quiesce';

export interface JournalEntry {
  volume: string;
  stoppedAt: string;
  containers: PlannedStop[];
  /** Services scaled to 0, with their former replica count (absent in journals of older versions). */
  services?: PlannedScale[];
}

/**
 * What a run is about to stop, written before it stops anything, so that a plugin killed mid-run can
 * start those containers again when it comes back.
 */
export class StopJournal {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'journal');
  }

  async record(volume: string, containers: PlannedStop[], services: PlannedScale[] = []): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const entry: JournalEntry = { volume, stoppedAt: new Date().toISOString(), containers, services };
    await writeFileAtomically(this.path(volume), `${JSON.stringify(entry, null, 2)}\n`);
  }

  async clear(volume: string): Promise<void> {
    await rm(this.path(volume), { force: true });
  }

  async pending(): Promise<JournalEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: JournalEntry[] = [];
    for (const name of names.filter((file) => file.endsWith('.json'))) {
      entries.push(JSON.parse(await readFile(join(this.dir, name), 'utf8')) as JournalEntry);
    }
    return entries;
  }

  private path(volume: string): string {
    return join(this.dir, `${volume}.json`);
  }
}
