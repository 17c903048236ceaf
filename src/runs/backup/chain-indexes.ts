import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const SUFFIX = '.index';
const PENDING = 'pending.index.partial';

/**
 * The index of the newest archive of a volume's chain (archive/tree-index.ts), kept in the volume's
 * staging folder under the archive's own name. The index a run writes is pending until its archive is
 * complete in every target: a run that dies or fails leaves it pending, and the next run, finding no
 * index for the newest complete archive, starts a new full one.
 */
export class ChainIndexes {
  constructor(private readonly directory: string) {}

  /** The index of `archive`, when it is there and whole. (archive/ is read here, not at the plugin's start.) */
  of(archive: string): string | undefined {
    const path = join(this.directory, `${archive}${SUFFIX}`);
    const { isCompleteIndex } = require('../../archive') as typeof import('../../archive');
    return isCompleteIndex(path) ? path : undefined;
  }

  /** The archive whose index is kept, when one is kept whole. */
  async indexed(): Promise<string | undefined> {
    const names = await readdir(this.directory).catch(() => [] as string[]);
    const kept = names.find((name) => name.endsWith(SUFFIX));
    const archive = kept?.slice(0, -SUFFIX.length);
    return archive !== undefined && this.of(archive) ? archive : undefined;
  }

  /** Where a run writes the index of its archive. */
  async pending(): Promise<string> {
    await mkdir(this.directory, { recursive: true });
    return join(this.directory, PENDING);
  }

  /** The pending index becomes `archive`'s; older ones go (the next run only ever bases on the newest). */
  async commit(archive: string): Promise<void> {
    const kept = `${archive}${SUFFIX}`;
    await rename(join(this.directory, PENDING), join(this.directory, kept));
    for (const name of await readdir(this.directory)) {
      if (name !== kept) await rm(join(this.directory, name), { force: true });
    }
  }

  /** No archive is a base any more (one of the chain failed its check): the next run is a full one. */
  async forget(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }

  async discardPending(): Promise<void> {
    await rm(join(this.directory, PENDING), { force: true });
  }
}
