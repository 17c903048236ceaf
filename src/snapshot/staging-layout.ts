import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface StagingLayout {
  /** The sync mirror, kept from one run to the next. */
  mirror: string;
  /** The copy mode's tree, deleted once archived. */
  copy: string;
}

/**
 * Creates the volume's staging folder and empties it of everything but the mirror when it is still wanted:
 * a copy or a probe left by a run that died, or a mirror of a volume that no longer uses sync.
 */
export async function prepareStaging(input: { stagingDir: string; keepMirror: boolean }): Promise<StagingLayout> {
  const layout = { mirror: join(input.stagingDir, 'mirror'), copy: join(input.stagingDir, 'copy') };
  await mkdir(input.stagingDir, { recursive: true });
  for (const name of await readdir(input.stagingDir)) {
    if (input.keepMirror && name === 'mirror') continue;
    await rm(join(input.stagingDir, name), { recursive: true, force: true });
  }
  return layout;
}
