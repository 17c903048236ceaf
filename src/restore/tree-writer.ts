import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { isRegularFile } from './entry-guard';

/** One archive entry, its path already checked and normalized by EntryGuard ('' is the root). */
export interface TreeEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkpath?: string;
}

interface DirectoryMeta {
  absolute: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/** S_ISGID (Node's fs.constants lacks it). */
const SET_GROUP_ID = 0o2000;
const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Writes archive entries into a fresh directory with blocking system calls (it runs in the extraction
 * worker, see extract-worker.ts), restoring content, permission bits, ownership (when root) and mtimes.
 * Directories get theirs at the end, deepest first, as GNU tar does: writing into a directory changes
 * its mtime. Nothing is ever followed: names are created with O_EXCL/O_NOFOLLOW, an existing name (an
 * archive may hold a path twice) is replaced.
 */
export class TreeWriter {
  private readonly directories: DirectoryMeta[] = [];
  private readonly ownership = process.getuid?.() === 0;
  /**
   * The owner every name this writer creates already has (root's), so that chown is only called for the
   * others: one system call per file saved for the common volume of root-owned files. Unknown when the
   * root directory is set-group-ID: names below it then take its group.
   */
  private readonly createdOwner: { uid: number; gid: number } | undefined;
  private fd: number | undefined;
  private current: TreeEntry | undefined;
  contentBytes = 0;

  constructor(
    private readonly root: string,
    /** Content bytes the destination can take; more is refused before it fills the filesystem. */
    private readonly roomBytes: number = Number.POSITIVE_INFINITY,
  ) {
    const inheritsGroup = (statSync(root).mode & SET_GROUP_ID) !== 0;
    this.createdOwner = this.ownership && !inheritsGroup ? { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 } : undefined;
  }

  /** Starts an entry; regular files then receive write() calls and an end(). */
  begin(entry: TreeEntry): void {
    // The path is normalized already (EntryGuard): joining it needs no second normalization.
    const absolute = entry.path === '' ? this.root : `${this.root}/${entry.path}`;
    if (entry.type === 'Directory') {
      this.makeDirectory(absolute);
      this.directories.push({ absolute, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime });
    } else if (isRegularFile(entry.type)) {
      this.fd = this.create(absolute, () => openSync(absolute, CREATE_FILE, 0o600));
      this.current = entry;
    } else if (entry.type === 'SymbolicLink') {
      this.create(absolute, () => symlinkSync(entry.linkpath ?? '', absolute));
      if (this.needsChown(entry)) lchownSync(absolute, entry.uid, entry.gid);
      lutimesSync(absolute, entry.mtime, entry.mtime);
    } else if (entry.type === 'Link') {
      // The target is an earlier entry of this archive, so it carries its own metadata already.
      this.create(absolute, () => linkSync(join(this.root, entry.linkpath ?? ''), absolute));
    } else if (entry.type === 'FIFO') {
      this.create(absolute, () => makeFifo(absolute));
      if (this.needsChown(entry)) chownSync(absolute, entry.uid, entry.gid);
      chmodSync(absolute, entry.mode & 0o7777);
      utimesSync(absolute, entry.mtime, entry.mtime);
    }
  }

  write(chunk: Uint8Array): void {
    if (this.fd === undefined) return;
    this.contentBytes += chunk.length;
    if (this.contentBytes > this.roomBytes) {
      throw Object.assign(new Error(`the archive's content does not fit in the free space of the volume's filesystem (${this.roomBytes} bytes)`), {
        code: 'ENOSPC',
      });
    }
    for (let offset = 0; offset < chunk.length; ) offset += writeSync(this.fd, chunk, offset);
  }

  end(): void {
    const fd = this.fd;
    const entry = this.current;
    if (fd === undefined || !entry) return;
    this.fd = undefined;
    this.current = undefined;
    try {
      // Owner first: chown clears the set-user-ID and set-group-ID bits that chmod then sets.
      if (this.needsChown(entry)) fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode & 0o7777);
      futimesSync(fd, entry.mtime, entry.mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** Applies the directories' metadata; call once every entry has been written. */
  finish(): void {
    for (let index = this.directories.length - 1; index >= 0; index--) {
      const directory = this.directories[index];
      if (this.needsChown(directory)) chownSync(directory.absolute, directory.uid, directory.gid);
      chmodSync(directory.absolute, directory.mode & 0o7777);
      utimesSync(directory.absolute, directory.mtime, directory.mtime);
    }
  }

  /** Whether the name must be given its owner: only root can, and only when it does not have it already. */
  private needsChown(owner: { uid: number; gid: number }): boolean {
    if (!this.ownership) return false;
    const created = this.createdOwner;
    return created === undefined || owner.uid !== created.uid || owner.gid !== created.gid;
  }

  /** Closes a file left open by a failure; the caller deletes the whole tree. */
  abandon(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private makeDirectory(absolute: string): void {
    try {
      mkdirSync(absolute, { mode: 0o700 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        mkdirSync(absolute, { recursive: true, mode: 0o700 });
      } else if (code === 'EEXIST') {
        if (lstatSync(absolute).isDirectory()) return;
        unlinkSync(absolute);
        mkdirSync(absolute, { mode: 0o700 });
      } else {
        throw error;
      }
    }
  }

  /** Runs make(); a missing parent is created, an existing name is removed and make() tried again. */
  private create<T>(absolute: string, make: () => T): T {
    try {
      return make();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') mkdirSync(dirname(absolute), { recursive: true, mode: 0o700 });
      else if (code === 'EEXIST') rmSync(absolute, { recursive: true, force: true });
      else throw error;
      return make();
    }
  }
}

/** Node has no mkfifo(3); the plugin's rootfs ships busybox's mkfifo (rootfs-build/build.sh). */
function makeFifo(absolute: string): void {
  const result = spawnSync('mkfifo', ['-m', '600', '--', absolute], { encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const reason = result.stderr.trim() || `exit code ${result.status}`;
    throw Object.assign(new Error(`mkfifo ${absolute} failed: ${reason}`), { code: /exists/i.test(reason) ? 'EEXIST' : 'EMKFIFO' });
  }
}
