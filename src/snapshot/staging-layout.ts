import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from '../shared/remove-tree';

export interface StagingLayout {
  /** The sync mirror, kept from one run to the next. */
  mirror: string;
  /** The copy mode's tree, deleted once archived. */
  copy: string;
}

/** The index of the newest archive of an incremental chain (runs/backup/chain-indexes.ts): kept like the mirror. */
export const CHAIN_FOLDER = 'chain';

/**
 * Creates the volume's staging folder and empties it of everything but the chain index and the mirror
 * when it is still wanted: a copy or a probe left by a run that died, or a mirror of a volume that no
 * longer uses sync.
 */
export async function prepareStaging(input: { stagingDir: string; keepMirror: boolean }): Promise<StagingLayout> {
  const layout = { mirror: join(input.stagingDir, 'mirror'), copy: join(input.stagingDir, 'copy') };
  await mkdir(input.stagingDir, { recursive: true });
  for (const name of await readdir(input.stagingDir)) {
    if ((input.keepMirror && name === 'mirror') || name === CHAIN_FOLDER) continue;
    await removeTree(join(input.stagingDir, name));
  }
  return layout;
}

/**
 * At plugin start, before any run: a copy left by a run that died holds a whole volume's worth of disk
 * until that volume's next run, which may be days away. Mirrors stay (the next sync run needs them).
 */
export async function removeStagingLeftovers(stagingRoot: string, onError: (message: string) => void): Promise<void> {
  const volumes = await readdir(stagingRoot, { withFileTypes: true }).catch(() => []);
  for (const entry of volumes) {
    if (!entry.isDirectory()) continue;
    const stagingDir = join(stagingRoot, entry.name);
    await prepareStaging({ stagingDir, keepMirror: true }).catch((error: Error) =>
      onError(`Could not clear the leftovers in ${stagingDir}: ${error.message}`),
    );
  }
}
