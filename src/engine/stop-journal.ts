import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../shared/atomic-file';
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
 * start those containers again when it comes back. What a bring-back fails to bring back stays in it, so
 * the next start tries again.
 */
export class StopJournal {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'journal');
  }

  /**
   * Adds to the volume's entry rather than replacing it: what an earlier run could not bring back must stay
   * until something brings it back.
   */
  async record(volume: string, containers: PlannedStop[], services: PlannedScale[] = []): Promise<void> {
    const earlier = await this.read(volume);
    await this.write({
      volume,
      stoppedAt: earlier?.stoppedAt ?? new Date().toISOString(),
      containers: [...containers, ...without(earlier?.containers ?? [], containers)],
      services: [...services, ...without(earlier?.services ?? [], services)],
    });
  }

  /** Drops what no longer has to be brought back; the entry goes once nothing is left in it. */
  async forget(volume: string, containers: PlannedStop[], services: PlannedScale[]): Promise<void> {
    const entry = await this.read(volume);
    if (!entry) return;
    const left = { ...entry, containers: without(entry.containers, containers), services: without(entry.services ?? [], services) };
    if (left.containers.length > 0 || left.services.length > 0) await this.write(left);
    else await rm(this.path(volume), { force: true });
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

  /** The volume's entry: what is still to be brought back for it, if anything. */
  async read(volume: string): Promise<JournalEntry | undefined> {
    try {
      return JSON.parse(await readFile(this.path(volume), 'utf8')) as JournalEntry;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private async write(entry: JournalEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomically(this.path(entry.volume), `${JSON.stringify(entry, null, 2)}\n`);
  }

  private path(volume: string): string {
    return join(this.dir, `${volume}.json`);
  }
}

/** The items not named (by id) in `gone`. */
function without<T extends { id: string }>(items: T[], gone: T[]): T[] {
  return items.filter((item) => !gone.some((other) => other.id === item.id));
}
