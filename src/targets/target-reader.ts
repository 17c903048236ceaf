import type { Readable } from 'node:stream';
import { newestFirst } from '../vocabulary/archive-manifest';
import type { OpenOptions, StoredArchive, Target } from './target';

/** What restore, verify and listing need of archives: the read side of a Target. */
export type ArchiveSource = Pick<Target, 'name' | 'list' | 'open'>;

/** A complete archive and the target it will be read from. */
export interface LocatedArchive extends StoredArchive {
  target: string;
}

/**
 * Reads a volume's archives from several targets as one: an archive is listed once, taken from the first
 * target (in the order the volume lists them) that holds it complete. A target that cannot be listed is
 * passed over while another answers, so restore still works with one target down; when none answers,
 * the first error is the answer.
 */
export class TargetReader implements ArchiveSource {
  readonly name: string;
  /**
   * Which target each archive listed so far is read from, by `VOLUME/ARCHIVE`: open() follows a list()
   * (restore, verify --all) and need not list every target again for each archive.
   */
  private readonly holders = new Map<string, string>();

  constructor(private readonly targets: readonly Target[]) {
    this.name = targets.map((target) => target.name).join(',');
  }

  async list(volume: string): Promise<LocatedArchive[]> {
    const byName = new Map<string, LocatedArchive>();
    const failures: Error[] = [];
    for (const target of this.targets) {
      let archives: StoredArchive[];
      try {
        archives = await target.list(volume);
      } catch (error) {
        failures.push(error as Error);
        continue;
      }
      for (const archive of archives) {
        if (!byName.has(archive.name)) byName.set(archive.name, { ...archive, target: target.name });
      }
    }
    for (const archive of byName.values()) this.holders.set(`${volume}/${archive.name}`, archive.target);
    if (failures.length === this.targets.length && failures[0]) throw failures[0];
    return [...byName.values()].sort(newestFirst);
  }

  async open(volume: string, archive: string, options?: OpenOptions): Promise<Readable> {
    const key = `${volume}/${archive}`;
    if (!this.holders.has(key)) await this.list(volume);
    const holder = this.holders.get(key);
    const target = this.targets.find((candidate) => candidate.name === holder);
    if (!target) throw new Error(`no complete archive ${archive} in target ${this.name}`);
    return target.open(volume, archive, options);
  }
}
