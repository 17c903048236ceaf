import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorpusShape } from './corpus';
import { seededRandom, seededRandomBytes } from './prng';

export interface ChangeCounts {
  modified: number;
  created: number;
  deleted: number;
}

/** Share of the small files a change touches, and of those how many are new files and deletions. */
const CHANGED_SHARE = 0.01;
const CREATED_SHARE = 0.025;
const DELETED_SHARE = 0.025;

/**
 * Changes 1% of the small files of a corpus copy at `dir`, the same way for the same `seed` on every machine:
 * most are rewritten with new content and a new size, a few are deleted and a few new ones appear (so a
 * mirror pass has to remove and create entries, not only copy). A file deleted by an earlier change may be
 * picked again: rewriting it brings it back, which is one more kind of change.
 */
export async function changeSmallFiles(dir: string, shape: CorpusShape, seed: number): Promise<ChangeCounts> {
  const random = seededRandom(seed);
  const content = seededRandomBytes(`change-${seed}`);
  const smallFiles = shape.folders * shape.filesPerFolder;
  const total = Math.max(3, Math.round(smallFiles * CHANGED_SHARE));
  const created = Math.max(1, Math.round(total * CREATED_SHARE));
  const deleted = Math.max(1, Math.round(total * DELETED_SHARE));
  const picked = new Set<number>();
  while (picked.size < total - created) picked.add(Math.floor(random() * smallFiles));
  const existing = [...picked];
  const size = () => 1024 + Math.floor(random() * 15 * 1024);
  const folderOf = (index: number) => join(dir, 'docs', `folder-${String(index).padStart(4, '0')}`);
  for (const [position, index] of existing.entries()) {
    const path = join(folderOf(Math.floor(index / shape.filesPerFolder)), `note-${String(index % shape.filesPerFolder).padStart(3, '0')}.txt`);
    if (position < deleted) await rm(path, { force: true });
    else await writeFile(path, content(size()));
  }
  for (let index = 0; index < created; index++) {
    const folder = folderOf(Math.floor(random() * shape.folders));
    await writeFile(join(folder, `added-${seed}-${index}.txt`), content(size()));
  }
  return { modified: existing.length - deleted, created, deleted };
}
