import { constants } from 'node:fs';
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Whether files of `source` can be cloned into `stagingDir`, so that a second copy costs no data blocks:
 * both on one filesystem (clones never cross one; btrfs subvolumes show different devices and are
 * conservatively counted as apart) and that filesystem clones (btrfs, XFS with reflink, bcachefs...).
 * Tried for real with a small file, since no stat field tells.
 */
export async function canReflink(input: { source: string; stagingDir: string }): Promise<boolean> {
  const [source, staging] = await Promise.all([stat(input.source), stat(input.stagingDir)]);
  if (source.dev !== staging.dev) return false;
  const probe = await mkdtemp(join(input.stagingDir, '.reflink-probe-'));
  try {
    await writeFile(join(probe, 'original'), 'backupvol reflink probe');
    await copyFile(join(probe, 'original'), join(probe, 'clone'), constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}
