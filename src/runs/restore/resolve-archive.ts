import type { StoredArchive } from '../../targets/target';
import type { ArchiveSource } from '../../targets/target-reader';
import { checkChain, describeBreak } from '../../vocabulary/archive-chain';
import type { RestoreSource } from '../../vocabulary/restore-source';

/** The complete archive a source names; a clear error when there is none. */
export async function resolveArchive(target: ArchiveSource, source: RestoreSource): Promise<StoredArchive> {
  const archives = await target.list(source.volume);
  if (source.archive === 'latest') {
    const newest = archives[0];
    if (!newest) throw new Error(`volume ${source.volume} has no complete archive in target ${target.name}`);
    return newest;
  }
  const found = archives.find((archive) => archive.name === source.archive);
  if (!found) {
    throw new Error(`no complete archive ${source.archive} in target ${target.name} (backupvol backups ${source.volume} lists them)`);
  }
  return found;
}

/**
 * The archives that restore `archive`'s point, in the order they apply: the full archive of its chain,
 * then each incremental up to it (just the archive when it is full). A link that is missing, or whose own
 * manifest disagrees, fails with its name.
 */
export async function resolveLinks(target: ArchiveSource, volume: string, archive: StoredArchive): Promise<StoredArchive[]> {
  if (archive.manifest.kind !== 'incremental') return [archive];
  const checked = checkChain(archive, await target.list(volume));
  if ('links' in checked) return checked.links;
  throw new Error(`${describeBreak(archive.name, checked.broken, target.name)}: restore an earlier point, or run a backup (the next run starts a new full archive)`);
}

/** The archive a source names and the links its point needs. */
export async function resolvePoint(target: ArchiveSource, source: RestoreSource): Promise<{ archive: StoredArchive; links: StoredArchive[] }> {
  const archive = await resolveArchive(target, source);
  return { archive, links: await resolveLinks(target, source.volume, archive) };
}
