import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { createExcludeMatcher } from '../vocabulary/exclude-matcher';
import type { TarBatcher } from './tar-batcher';
import { countsAsFile, type TarEntryMeta } from './tar-entry';
import { walkVolume } from './walk-volume';

/**
 * O_NOFOLLOW: a container could swap a file for a symlink between lstat and open; following it would
 * archive whatever the plugin (root) can read on the host. O_NONBLOCK: a file swapped for a FIFO must not
 * block the run forever. Neither changes anything for the regular files we expect.
 */
export const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Errors that mean the path changed under a live backup: the entry is skipped, as GNU tar does. EINVAL:
 * readlink of a name that is no symlink any more.
 */
const VANISHED = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EINVAL']);

export interface PackTreeOptions {
  root: string;
  exclude: readonly string[];
  /** Its pool may throw to stop the walk; the file being read, if any, is closed first. */
  batcher: TarBatcher;
}

export interface PackTreeResult {
  fileCount: number;
}

/**
 * Writes the tree under `root` as tar, entries relative to it ('./' for the root, so that extracting
 * restores its mode and owner too): directories, regular files, hard links, symlinks and FIFOs with their
 * modes, numeric owners and mtimes. Sockets and devices are skipped, as they cannot be backed up
 * meaningfully (GNU tar skips sockets too).
 */
export function packTree(options: PackTreeOptions): PackTreeResult {
  const { root, batcher } = options;
  // First archived path of each multiply-linked inode, so later names become hard-link entries.
  const linkTargets = new Map<string, string>();
  let fileCount = 0;
  for (const walked of walkVolume(root, createExcludeMatcher(options.exclude))) {
    // Reached from its open parent directory, never by path (walk-volume.ts); a directory by its handle.
    const at = walked.directory.at(walked.name);
    const stat = walked.opened ? fstatSync(walked.opened.fd) : ignoreVanished(() => lstatSync(at));
    if (!stat) continue;
    const meta = describeEntry(walked.path, stat);
    if (!meta) continue;
    if (meta.type === 'SymbolicLink') {
      const linkpath = ignoreVanished(() => readlinkSync(at));
      if (linkpath === undefined) continue;
      meta.linkpath = linkpath;
    }
    const linkKey = meta.type === 'File' && stat.nlink > 1 ? `${stat.dev}:${stat.ino}` : undefined;
    const firstName = linkKey === undefined ? undefined : linkTargets.get(linkKey);
    if (firstName !== undefined) Object.assign(meta, { type: 'Link', size: 0, linkpath: firstName });
    if (meta.type === 'File' && meta.size > 0) {
      // Opened before the header is written: a file that vanished in between leaves no trace.
      const fd = ignoreVanished(() => openSync(at, OPEN_FLAGS));
      if (fd === undefined) continue;
      // Swapped for a directory since the lstat (O_RDONLY opens one): skipped like a vanished file.
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        continue;
      }
      try {
        batcher.header(meta, meta.path);
        batcher.fileContent(fd, meta.size);
      } finally {
        closeSync(fd);
      }
    } else {
      batcher.header(meta, meta.type === 'Directory' ? `${meta.path}/` : meta.path);
    }
    // Only once archived: a later name can link to it.
    if (linkKey !== undefined && firstName === undefined) linkTargets.set(linkKey, meta.path);
    if (countsAsFile(meta.type)) fileCount++;
  }
  batcher.finish();
  return { fileCount };
}

export function describeEntry(path: string, stat: Stats): TarEntryMeta | undefined {
  const meta = { path, mode: stat.mode, uid: stat.uid, gid: stat.gid, size: 0, mtime: stat.mtime };
  if (stat.isFile()) return { ...meta, type: 'File', size: stat.size };
  if (stat.isDirectory()) return { ...meta, type: 'Directory' };
  if (stat.isSymbolicLink()) return { ...meta, type: 'SymbolicLink' };
  if (stat.isFIFO()) return { ...meta, type: 'FIFO' };
  return undefined;
}

export function ignoreVanished<T>(operation: () => T): T | undefined {
  try {
    return operation();
  } catch (error) {
    if (VANISHED.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}
