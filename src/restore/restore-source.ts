import { parseArchiveName } from '../backup/archive-name';
import type { StoredArchive } from '../targets/target';
import type { ArchiveSource } from '../targets/target-reader';
import { assertValidVolumeName } from '../volumes/volume-name';

/** Which archive to restore: the newest of a volume, or one by name (its name says whose it is). */
export interface RestoreSource {
  volume: string;
  archive: 'latest' | string;
}

/**
 * `latest`, `VOLUME@latest` or an archive name (`VOLUME-YYYYMMDDTHHMMSSZ.tar.gz`). `volume` is the
 * volume whose newest archive `latest` means.
 */
export function parseRestoreSource(text: string, volume?: string): RestoreSource {
  const value = text.trim();
  if (value === 'latest' && volume) return { volume, archive: 'latest' };
  if (value.endsWith('@latest')) {
    const source = value.slice(0, -'@latest'.length);
    assertValidVolumeName(source);
    return { volume: source, archive: 'latest' };
  }
  const parsed = parseArchiveName(value);
  if (!parsed || value.includes('/')) {
    throw new Error(`"${text}" is not an archive: use latest, VOLUME@latest or an archive name such as VOLUME-20260101T030000Z.tar.gz`);
  }
  return { volume: parsed.volume, archive: value };
}

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
