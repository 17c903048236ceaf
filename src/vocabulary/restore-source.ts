import { parseArchiveName } from './archive-name';
import { assertValidVolumeName } from './volume-name';

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
  // The name's volume part picks the target folder that is read: `..-20260101T030000Z.tar.gz` must not
  // reach the folder above the volumes'.
  try {
    assertValidVolumeName(parsed.volume);
  } catch (error) {
    throw new Error(`"${text}" is not an archive of a volume: ${(error as Error).message}`);
  }
  return { volume: parsed.volume, archive: value };
}

/**
 * `restore VOLUME --from X` restores one of VOLUME's own archives: an archive of another volume, named by
 * mistake (or on purpose), would replace the volume's content with someone else's. Starting a volume from
 * another one's archive is what `--into` and `restore-from` are for.
 */
export function parseOwnRestoreSource(text: string, volume: string): RestoreSource {
  const source = parseRestoreSource(text, volume);
  if (source.volume !== volume) {
    throw new Error(
      `"${text}" is an archive of volume ${source.volume}, not of ${volume}: restore names one of the volume's own archives ` +
        `(to start a volume from another one's archive, use backupvol restore ${source.volume} --into NEW_VOLUME, or restore-from at create)`,
    );
  }
  return source;
}
