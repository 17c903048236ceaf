import { encryptionOfArchive } from '../../vocabulary/archive-name';
import type { StoredArchive } from '../../targets/target';
import type { Encryption } from '../../vocabulary/volume-options';

/** A volume involved in a restore or verify, and what its `backup-encryption` says. */
export interface VolumeEncryption {
  volume: string;
  encryption: Encryption;
}

/**
 * Refuses an archive whose encryption is not what the volumes involved ask for, before a byte of it is
 * read. The manifest is stored beside the archive, unsigned: anyone who can write to the target can plant
 * an unencrypted archive and a manifest saying `encryption: none`, so the manifest alone must never decide.
 *
 * - The name's suffix and the manifest's `encryption` must agree: a disagreement is a planted or damaged pair.
 * - An encrypted volume (gpg or age) accepts only archives encrypted its own way.
 * - A volume with encryption `none` accepts an encrypted archive too (decrypting it needs the keys): refusing
 *   it would protect nothing, since such a volume accepts plain archives that anyone could make, and it
 *   would break `restore-from` and `--into` from an encrypted volume into one created without the option.
 */
export function assertArchiveEncryption(archive: StoredArchive, volumes: readonly VolumeEncryption[]): void {
  const named = encryptionOfArchive(archive.name);
  const recorded = archive.manifest.encryption;
  if (recorded !== named) {
    throw new Error(
      `archive ${archive.name} is refused: its name says encryption ${named} but its manifest says ${JSON.stringify(recorded)} (a damaged or planted manifest)`,
    );
  }
  for (const { volume, encryption } of volumes) {
    if (encryption === 'none' || encryption === recorded) continue;
    const what = recorded === 'none' ? 'not encrypted' : `encrypted with ${recorded}`;
    throw new Error(
      `archive ${archive.name} is refused: it is ${what}, but volume ${volume} has backup-encryption=${encryption}; ` +
        `only archives encrypted that way are restored into or from it (an unencrypted archive could have been put in the target by anyone who can write there)`,
    );
  }
}
