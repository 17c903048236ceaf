import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

let temporaries = 0;

/**
 * Replaces `path` with `content` so that a crash leaves either the old or the new file, never a torn one:
 * write a temporary sibling, fsync it, rename it over, fsync the directory so the rename itself is durable.
 * With `durable: false` the fsyncs are left out: a killed process still leaves the old or the new file
 * (the page cache holds both the content and the rename), but a power loss may leave neither whole.
 */
export async function writeFileAtomically(path: string, content: string, { durable = true }: { durable?: boolean } = {}): Promise<void> {
  // Unique within the process too: two writes of one file in the same millisecond must not share it.
  const temporary = `${path}.tmp-${process.pid}-${Date.now()}-${++temporaries}`;
  try {
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(content);
      if (durable) await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  if (durable) await syncDirectory(dirname(path));
}

/** fsync of a file or a directory by its path: Linux writes back the file's dirty pages whoever wrote them. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const syncDirectory = syncPath;
