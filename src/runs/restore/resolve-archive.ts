import type { StoredArchive } from '../../targets/target';
import type { ArchiveSource } from '../../targets/target-reader';
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
