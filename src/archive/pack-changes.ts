import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { PinnedDirectory } from '../shared/pinned-directory';
import { dumpdirBlocks, encodeDumpdir, type DumpdirCode } from './dumpdir';
import { createExcludeMatcher } from '../vocabulary/exclude-matcher';
import type { TarBatcher } from './tar-batcher';
import { countsAsFile, type TarEntryMeta } from './tar-entry';
import { describeEntry, ignoreVanished, OPEN_FLAGS } from './pack-tree';
import { indexedStat, IndexReader, IndexWriter, unchanged } from './tree-index';

/** What an archive of an incremental chain packs against. */
export interface ChainLink {
  /** The index of the archive this one applies on; none for the full archive that starts the chain. */
  previousIndex?: string;
  /** Where this archive's index goes (synced before the pack resolves). */
  nextIndex: string;
  /** Whether inode numbers and ctimes tell changes (not so for a fresh copy of the volume). */
  trustInode: boolean;
}

export interface PackChangesOptions extends ChainLink {
  root: string;
  exclude: readonly string[];
  batcher: TarBatcher;
}

interface Child {
  name: string;
  meta: TarEntryMeta;
  stat: Stats;
  changed: boolean;
}

interface Frame {
  directory: PinnedDirectory;
  path: string;
  subdirectories: string[];
  next: number;
}

/**
 * Writes the tree under `root` in GNU tar's incremental format (dumpdir.ts): each directory as a dumpdir
 * entry naming all it holds, then the names that changed since the previous index (all of them without
 * one), then its subdirectories, depth first with names sorted. Unchanged files are never opened. Reads
 * the tree as pack-tree.ts does: every name from its open parent, a directory described by the handle the
 * walk then descends into.
 */
export function packChanges(options: PackChangesOptions): { fileCount: number } {
  const { batcher, trustInode } = options;
  const isExcluded = createExcludeMatcher(options.exclude);
  const previous = options.previousIndex === undefined ? undefined : new IndexReader(options.previousIndex);
  const index = new IndexWriter(options.nextIndex);
  const linkTargets = new Map<string, string>();
  let fileCount = 0;
  const stack: Frame[] = [];
  const root = PinnedDirectory.open(options.root);
  try {
    const visit = (directory: PinnedDirectory, path: string): void => {
      const stat = fstatSync(directory.fd);
      const known = previous?.namesOf(path);
      const children: Child[] = [];
      const subdirectories: string[] = [];
      const listing: Array<[DumpdirCode, string]> = [];
      for (const name of readdirSync(directory.at('')).sort()) {
        const childPath = path === '.' ? name : `${path}/${name}`;
        const childStat = ignoreVanished(() => lstatSync(directory.at(name)));
        if (!childStat || isExcluded(childPath, childStat.isDirectory())) continue;
        if (childStat.isDirectory()) {
          subdirectories.push(name);
          listing.push(['D', name]);
          continue;
        }
        const meta = describeEntry(childPath, childStat);
        if (!meta) continue;
        if (meta.type === 'SymbolicLink') {
          const linkpath = ignoreVanished(() => readlinkSync(directory.at(name)));
          if (linkpath === undefined) continue;
          meta.linkpath = linkpath;
        }
        const changed = !unchanged(known?.get(name), indexedStat(meta.type, childStat, meta.linkpath), trustInode);
        children.push({ name, meta, stat: childStat, changed });
        listing.push([changed ? 'Y' : 'N', name]);
      }
      batcher.blocks(dumpdirBlocks({ path, mode: stat.mode, uid: stat.uid, gid: stat.gid, mtime: stat.mtime }, encodeDumpdir(listing)));
      index.directory(
        path,
        children.map(({ name, meta, stat: childStat }) => [name, indexedStat(meta.type, childStat, meta.linkpath)] as const),
      );
      for (const child of children) if (child.changed && write(directory, child)) fileCount++;
      stack.push({ directory, path, subdirectories, next: 0 });
    };

    /** Writes one changed name; false when it vanished or is not a file the count includes. */
    const write = (directory: PinnedDirectory, { name, meta, stat }: Child): boolean => {
      const linkKey = meta.type === 'File' && stat.nlink > 1 ? `${stat.dev}:${stat.ino}` : undefined;
      const firstName = linkKey === undefined ? undefined : linkTargets.get(linkKey);
      if (firstName !== undefined) Object.assign(meta, { type: 'Link', size: 0, linkpath: firstName });
      if (meta.type === 'File' && meta.size > 0) {
        const fd = ignoreVanished(() => openSync(directory.at(name), OPEN_FLAGS));
        if (fd === undefined) return false;
        try {
          if (!fstatSync(fd).isFile()) return false;
          batcher.header(meta, meta.path);
          batcher.fileContent(fd, meta.size);
        } finally {
          closeSync(fd);
        }
      } else {
        batcher.header(meta, meta.path);
      }
      if (linkKey !== undefined && firstName === undefined) linkTargets.set(linkKey, meta.path);
      return countsAsFile(meta.type);
    };

    visit(root, '.');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next >= top.subdirectories.length) {
        stack.pop();
        if (top.directory !== root) top.directory.close();
        continue;
      }
      const name = top.subdirectories[top.next++];
      // Swapped for something else since it was listed (a live backup): its dumpdir entry stays, empty of it.
      const opened = ignoreVanished(() => top.directory.openDirectory(name));
      if (opened) visit(opened, top.path === '.' ? name : `${top.path}/${name}`);
    }
    batcher.finish();
    index.finish();
  } catch (error) {
    index.abandon();
    throw error;
  } finally {
    for (const { directory } of stack) if (directory !== root) directory.close();
    root.close();
    previous?.close();
  }
  return { fileCount };
}
