import { lstat, opendir, rmdir, unlink } from 'node:fs/promises';
import { openIfStillDirectory, PinnedDirectory } from './pinned-directory';

/**
 * `rm -rf path` in flat memory, for trees the size of a volume (mirrors, copies, a volume's old data, the
 * trash). fs.rm with `recursive` starts the removal of every entry of a folder at once: on a volume of
 * 20,000 files that took a Node process to 101 MiB of RSS (48 MiB one by one). This reads each folder as
 * a stream and removes a few files at a time: what it holds is one folder handle per level and a batch.
 * Names are bytes (a volume may hold names that are not UTF-8). A missing path is not an error (as `force`).
 * Below `path`, nothing is reached by a path that a swapped-in symlink could redirect (see removeDirectory).
 */
export async function removeTree(path: string): Promise<void> {
  const root = Buffer.from(path);
  let isDirectory: boolean;
  try {
    isDirectory = (await lstat(root)).isDirectory();
  } catch (error) {
    if (isGone(error)) return;
    throw error;
  }
  if (!isDirectory) return unlink(root).catch(ignoreGone);
  const directory = openIfStillDirectory(() => PinnedDirectory.open(root));
  if (directory === undefined) return unlink(root).catch(ignoreGone);
  await removeDirectory(directory, () => rmdir(root));
}

/** A folder read while its entries go may not list them all at once: it is read again until it is empty. */
const MAX_READS = 3;

/**
 * Empties `directory`, reaching every name from its handle (pinned-directory.ts): a folder swapped for a
 * symlink meanwhile is unlinked as the link it now is, never followed out of the tree. Then `removeSelf`.
 */
async function removeDirectory(directory: PinnedDirectory, removeSelf: () => Promise<void>): Promise<void> {
  try {
    for (let read = 1; ; read++) {
      // Files go UNLINK_BATCH at a time: one by one, each waits for its own thread-pool round trip (2x slower).
      let files: Buffer[] = [];
      // The iterator closes the handle when the loop ends, also on a throw.
      for await (const entry of await opendir(directory.at(''), BYTE_NAMES)) {
        const name = entry.name as unknown as Buffer;
        const child = entry.isDirectory() ? openIfStillDirectory(() => directory.openDirectory(name)) : undefined;
        if (child) await removeDirectory(child, () => rmdir(directory.at(name)));
        else files.push(directory.at(name));
        if (files.length === UNLINK_BATCH) files = await unlinkAll(files);
      }
      await unlinkAll(files);
      try {
        return await removeSelf();
      } catch (error) {
        if (isGone(error)) return;
        if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || read === MAX_READS) throw error;
      }
    }
  } finally {
    directory.close();
  }
}

const UNLINK_BATCH = 32;

/** Returns a fresh batch. */
async function unlinkAll(files: Buffer[]): Promise<Buffer[]> {
  await Promise.all(files.map((file) => unlink(file).catch(ignoreGone)));
  return [];
}

/** Node reads a folder with Buffer names for the encoding 'buffer', which its typings leave out for opendir. */
const BYTE_NAMES = { encoding: 'buffer' as BufferEncoding };

function isGone(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function ignoreGone(error: unknown): void {
  if (!isGone(error)) throw error;
}
