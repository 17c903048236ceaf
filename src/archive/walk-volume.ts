import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { openIfStillDirectory, PinnedDirectory } from '../shared/pinned-directory';
import type { ExcludeMatcher } from '../vocabulary/exclude-matcher';

/** A path relative to the walked root ('.' for the root itself), in the order tar should store it. */
export interface WalkedPath {
  path: string;
  isDirectory: boolean;
  /**
   * Where to reach it: `directory.at(name)`, never the path. Valid until the walk moves on to the next
   * path. For the root, `name` is '' and `directory` the root itself.
   */
  directory: PinnedDirectory;
  name: string;
  /**
   * For a directory, the directory itself, opened before it is yielded: describe it by this handle (fstat),
   * not by its name, so that what is archived as a directory is exactly what the walk then descends into.
   * A folder swapped for a symlink after readdir is yielded as what it is now, with no handle.
   */
  opened?: PinnedDirectory;
}

/**
 * Yields the root, then every path below it, depth first with each directory's names sorted, skipping
 * excluded paths and everything below an excluded directory. Depth first (as GNU tar does) keeps memory to
 * the names of the directories on the current path, whatever the size of the volume; sorting makes two
 * archives of the same tree byte-identical. Synchronous: it runs in the packing worker, where blocking
 * system calls are the cheap ones (see pack-worker.ts).
 *
 * Each directory on the current path is held open and its names are reached from it, never followed
 * (pinned-directory.ts): a container that swaps a folder of its live volume for a symlink cannot make the
 * walk list or read anything outside the volume.
 */
export function* walkVolume(root: string, isExcluded: ExcludeMatcher): Generator<WalkedPath> {
  const rootDirectory = PinnedDirectory.open(root);
  const stack: Array<{ path: string; directory: PinnedDirectory; entries: Dirent[]; next: number }> = [];
  try {
    yield { path: '.', isDirectory: true, directory: rootDirectory, name: '', opened: rootDirectory };
    // Not so for the root: a missing volume must fail the run, not make an empty archive.
    stack.push({ path: '.', directory: rootDirectory, entries: sortedEntries(rootDirectory), next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next >= top.entries.length) {
        stack.pop();
        if (top.directory !== rootDirectory) top.directory.close();
        continue;
      }
      const entry = top.entries[top.next++];
      const path = top.path === '.' ? entry.name : `${top.path}/${entry.name}`;
      const listedAsDirectory = isDirectoryEntry(top.directory, entry);
      if (isExcluded(path, listedAsDirectory)) continue;
      const opened = listedAsDirectory ? openIfStillDirectory(() => top.directory.openDirectory(entry.name)) : undefined;
      yield { path, isDirectory: opened !== undefined, directory: top.directory, name: entry.name, opened };
      if (opened) stack.push({ path, directory: opened, entries: sortedEntries(opened), next: 0 });
    }
  } finally {
    for (const { directory } of stack) if (directory !== rootDirectory) directory.close();
    rootDirectory.close();
  }
}

function sortedEntries(directory: PinnedDirectory): Dirent[] {
  const entries = readdirSync(directory.at(''), { withFileTypes: true });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Some filesystems do not report entry types in readdir (DT_UNKNOWN); ask lstat then. */
function isDirectoryEntry(parent: PinnedDirectory, entry: Dirent): boolean {
  if (entry.isDirectory()) return true;
  const typeKnown =
    entry.isFile() || entry.isSymbolicLink() || entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice();
  if (typeKnown) return false;
  return lstatSync(parent.at(entry.name), { throwIfNoEntry: false })?.isDirectory() ?? false;
}
