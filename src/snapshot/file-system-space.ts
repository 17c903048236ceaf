import { statfs } from 'node:fs/promises';

export interface FileSystemSpace {
  /** What an unprivileged writer may still use: the root reserve stays untouched for the host. */
  availableBytes: number;
  usedBytes: number;
  /** null where the filesystem keeps no inode count (btrfs reports zero). */
  availableInodes: number | null;
  usedInodes: number | null;
}

/** The space of the filesystem that holds `dir`. */
export async function fileSystemSpace(dir: string): Promise<FileSystemSpace> {
  const stats = await statfs(dir);
  const inodesCounted = stats.files > 0;
  return {
    availableBytes: stats.bavail * stats.bsize,
    usedBytes: (stats.blocks - stats.bfree) * stats.bsize,
    availableInodes: inodesCounted ? stats.ffree : null,
    usedInodes: inodesCounted ? stats.files - stats.ffree : null,
  };
}
