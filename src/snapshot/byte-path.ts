import { lstatSync, type BigIntStats } from 'node:fs';

// Linux file names are bytes, not necessarily UTF-8. A walker that used string paths would read such a
// name as U+FFFD, fail to find the file again and leave it out of the backup without a word; walking
// with Buffer paths keeps every name exactly.

const SEPARATOR = Buffer.from('/');

/** `name` inside the directory `parent`; an empty `parent` is the root itself. */
export function childPath(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, SEPARATOR, name]);
}

/** The relative path `relative` under the absolute directory `root`. */
export function underRoot(root: Buffer, relative: Buffer): Buffer {
  return relative.length === 0 ? root : Buffer.concat([root, SEPARATOR, relative]);
}

/** A key for sets and maps that keeps every byte (latin1 maps bytes to code points one to one). */
export function nameKey(name: Buffer): string {
  return name.toString('latin1');
}

/** Errors that mean the path is not there (any more): the tree changed under a live walk. */
export function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function lstatIfExists(path: Buffer): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/**
 * What a source entry deleted or swapped for another type during a live walk makes a call fail with: gone
 * (ENOENT, ENOTDIR), a symlink where none was (ELOOP), no symlink any more for readlink (EINVAL).
 */
export function isSwapped(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return isGone(error) || code === 'ELOOP' || code === 'EINVAL';
}
