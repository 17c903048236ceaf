import type { StoredArchive } from '../../targets/target';
import type { ArchiveSource } from '../../targets/target-reader';
import { checkChain, describeBreak } from '../../vocabulary/archive-chain';
import type { RestoreSource } from '../../vocabulary/restore-source';

/** The complete archive a source names; a clear error when there is none. */
export async function resolveArchive(target: ArchiveSource, source: RestoreSource): Promise<StoredArchive> {
  return pickArchive(await target.list(source.volume), source, target.name);
}

/**
 * The archives that restore the point a source names, in the order to apply them: the chain's full
 * archive first, the named archive last (a full archive alone). One listing serves both.
 */
export async function resolvePoint(target: ArchiveSource, source: RestoreSource): Promise<StoredArchive[]> {
  const archives = await target.list(source.volume);
  return chainToApply(pickArchive(archives, source, target.name), archives, target.name);
}

/**
 * The archives to apply to reach `point`, full one first, as `listing` (of target `target`) holds them.
 * Throws naming the first link that is missing or whose manifest does not belong to the chain.
 */
export function chainToApply<T extends StoredArchive>(point: T, listing: readonly T[], target: string): T[] {
  const checked = checkChain(point, listing);
  if ('links' in checked) return checked.links;
  throw new Error(`${describeBreak(point.name, checked.broken, target)}: restore an earlier point, or run a backup (the next run starts a new full archive)`);
}

function pickArchive<T extends StoredArchive>(archives: readonly T[], source: RestoreSource, target: string): T {
  if (source.archive === 'latest') {
    const newest = archives[0];
    if (!newest) throw new Error(`volume ${source.volume} has no complete archive in target ${target}`);
    return newest;
  }
  const found = archives.find((archive) => archive.name === source.archive);
  if (!found) {
    throw new Error(`no complete archive ${source.archive} in target ${target} (backupvol backups ${source.volume} lists them)`);
  }
  return found;
}

/** What stageArchive takes: the point, and the links that reach it (resolvePoint's answer). */
export function pointAndLinks(links: StoredArchive[]): { archive: StoredArchive; links: StoredArchive[] } {
  return { archive: links[links.length - 1], links };
}
