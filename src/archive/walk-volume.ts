import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { ExcludeMatcher } from './exclude-matcher';

/** A path relative to the walked root ('.' for the root itself), in the order tar should store it. */
export interface WalkedPath {
  path: string;
  isDirectory: boolean;
}

/**
 * Yields the root, then every path below it, depth first with each directory's names sorted, skipping
 * excluded paths and everything below an excluded directory. Depth first (as GNU tar does) keeps memory to
 * the names of the directories on the current path, whatever the size of the volume; sorting makes two
 * archives of the same tree byte-identical. Synchronous: it runs in the packing worker, where blocking
 * system calls are the cheap ones (see pack-worker.ts).
 */
export function* walkVolume(root: string, isExcluded: ExcludeMatcher): Generator<WalkedPath> {
  yield { path: '.', isDirectory: true };
  const stack: Array<{ path: string; entries: Dirent[]; next: number }> = [];
  const enter = (path: string) => {
    const entries = path === '.' ? readdirSync(root, { withFileTypes: true }) : listDirectory(join(root, path));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    stack.push({ path, entries, next: 0 });
  };
  enter('.');
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next >= top.entries.length) {
      stack.pop();
      continue;
    }
    const entry = top.entries[top.next++];
    const path = top.path === '.' ? entry.name : `${top.path}/${entry.name}`;
    const isDirectory = isDirectoryEntry(root, path, entry);
    if (isExcluded(path, isDirectory)) continue;
    yield { path, isDirectory };
    if (isDirectory) enter(path);
  }
}

/**
 * A directory that vanished or was replaced since its parent was read (a live backup) has no entries.
 * (Not so for the root: a missing volume must fail the run, not make an empty archive.)
 */
function listDirectory(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

/** Some filesystems do not report entry types in readdir (DT_UNKNOWN); ask lstat then. */
function isDirectoryEntry(root: string, path: string, entry: Dirent): boolean {
  if (entry.isDirectory()) return true;
  const typeKnown =
    entry.isFile() || entry.isSymbolicLink() || entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice();
  if (typeKnown) return false;
  return lstatSync(join(root, path), { throwIfNoEntry: false })?.isDirectory() ?? false;
}
