import { lstat, readdir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { createExcludeMatcher } from '../vocabulary/exclude-matcher';
import { ConcurrencyLimit } from '../shared/concurrency-limit';
import { childPath, isGone, underRoot } from './byte-path';

export interface TreeSize {
  /** Apparent size of the regular files: what a copy writes (sparse files are not kept sparse). */
  bytes: number;
  /** Entries below the root: each takes an inode in a copy. */
  entries: number;
}

/**
 * Adds up a tree's files without following symlinks; a missing root is an empty tree. Asynchronous on the
 * main thread: it runs before the containers stop, where its speed matters less than the event loop.
 */
export async function measureTree(input: { root: string; exclude?: readonly string[] }): Promise<TreeSize> {
  const root = Buffer.from(input.root);
  const excluded = createExcludeMatcher(input.exclude ?? []);
  const limit = new ConcurrencyLimit(8);
  const size: TreeSize = { bytes: 0, entries: 0 };
  const walk = async (rel: Buffer): Promise<void> => {
    const entries = await limit.run(() => listIfExists(underRoot(root, rel)));
    const kept = entries.filter((entry) => !excluded(childPath(rel, entry.name).toString(), entry.isDirectory()));
    size.entries += kept.length;
    await Promise.all(
      kept.map(async (entry) => {
        const path = childPath(rel, entry.name);
        if (entry.isDirectory()) return walk(path);
        if (!entry.isFile()) return;
        const stats = await limit.run(() => lstat(underRoot(root, path)).catch(ignoreGone));
        size.bytes += stats?.size ?? 0;
      }),
    );
  };
  await walk(Buffer.alloc(0));
  return size;
}

function ignoreGone(error: unknown): undefined {
  if (isGone(error)) return undefined;
  throw error;
}

/** A directory deleted while we walk (the volume is live) simply has nothing in it. */
async function listIfExists(path: Buffer): Promise<Dirent<Buffer>[]> {
  try {
    return await readdir(path, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    if (isGone(error)) return [];
    throw error;
  }
}
