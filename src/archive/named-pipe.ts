import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface NamedPipe {
  path: string;
  /** Removes the pipe and its private folder (open descriptors stay valid). */
  remove(): Promise<void>;
}

/**
 * Makes a named pipe (mode 600) in a private temporary folder. Node has no mkfifo(3): this runs the
 * mkfifo binary (coreutils; busybox's in the plugin rootfs). Used so that zstd and a worker thread
 * exchange data with blocking reads and writes and the main thread relays none of it.
 */
export async function makeNamedPipe(signal: AbortSignal): Promise<NamedPipe> {
  const dir = await mkdtemp(join(tmpdir(), 'backupvol-pipe-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'tar');
  try {
    await execFileAsync('mkfifo', ['-m', '600', path], { signal }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new Error('mkfifo is not installed (coreutils; needed for zstd archives)') : error;
    });
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, remove };
}
