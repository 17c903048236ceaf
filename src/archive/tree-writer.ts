import { spawnSync } from 'node:child_process';
import {
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
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { DirectoryChain, PinnedDirectory } from '../shared/pinned-directory';
import type { DumpdirCode } from './dumpdir';
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
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/** S_ISGID (Node's fs.constants lacks it). */
const SET_GROUP_ID = 0o2000;
/** Permission bits without set-user-ID and set-group-ID (the sticky bit stays: /tmp-like folders need it). */
const WITHOUT_SPECIAL_BITS = 0o1777;
const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** O_NONBLOCK: opening a FIFO to set its metadata must not wait for a writer. */
const OPEN_FIFO = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

export interface TreeWriterOptions {
  /** Content bytes the destination can take; more is refused before it fills the filesystem. */
  roomBytes?: number;
  /** Restore set-user-ID and set-group-ID bits (setting RESTORE_SPECIAL_BITS); dropped otherwise. */
  keepSpecialBits?: boolean;
}

/**
 * Writes archive entries into a fresh directory with blocking system calls (it runs in the extraction
 * worker, see extract-worker.ts), restoring content, permission bits, ownership (when root) and mtimes.
 * Directories get theirs at the end, deepest first, as GNU tar does: writing into a directory changes
 * its mtime.
 *
 * Nothing is ever followed, whatever the archive says: every name is reached from its parent directory's
 * open handle (pinned-directory.ts), never through a path, created with O_EXCL/O_NOFOLLOW, and its
 * metadata is set through the handle it was created with (symlinks: lchown/lutimes). A path given twice
 * (tar appends) is replaced, and what was recorded for the old entry and below it is dropped, so a
 * directory replaced by a symlink never gets its metadata applied to what the symlink names.
 */
export class TreeWriter {
  /** Directories whose metadata finish() applies, by path, in archive order ('' is the root). */
  private readonly directories = new Map<string, DirectoryMeta>();
  private readonly ownership = process.getuid?.() === 0;
  /**
   * The owner every name this writer creates already has (root's), so that chown is only called for the
   * others: one system call per file saved for the common volume of root-owned files. Unknown when the
   * root directory is set-group-ID: names below it then take its group.
   */
  private readonly createdOwner: { uid: number; gid: number } | undefined;
  private readonly permissionBits: number;
  private readonly roomBytes: number;
  private readonly root: PinnedDirectory;
  /** Where entries go, and (separately, so neither evicts the other) where hard links point. */
  private readonly entryParents: DirectoryChain;
  private readonly linkParents: DirectoryChain;
  private fd: number | undefined;
  private current: TreeEntry | undefined;
  contentBytes = 0;

  constructor(root: string, options: TreeWriterOptions = {}) {
    const inheritsGroup = (statSync(root).mode & SET_GROUP_ID) !== 0;
    this.createdOwner = this.ownership && !inheritsGroup ? { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 } : undefined;
    this.permissionBits = options.keepSpecialBits ? 0o7777 : WITHOUT_SPECIAL_BITS;
    this.roomBytes = options.roomBytes ?? Number.POSITIVE_INFINITY;
    this.root = PinnedDirectory.open(root);
    this.entryParents = new DirectoryChain(this.root);
    this.linkParents = new DirectoryChain(this.root);
  }

  /** Starts an entry; regular files then receive write() calls and an end(). */
  begin(entry: TreeEntry): void {
    if (entry.path === '') {
      // EntryGuard lets only a directory be the root.
      this.directories.set('', { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime });
      return;
    }
    const { parent, name } = this.placeOf(entry.path, this.entryParents);
    const at = parent.at(name);
    if (entry.type === 'Directory') {
      this.makeDirectory(entry.path, at);
      this.directories.set(entry.path, { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime });
    } else if (isRegularFile(entry.type)) {
      this.fd = this.create(entry.path, at, () => openSync(at, CREATE_FILE, 0o600));
      this.current = entry;
    } else if (entry.type === 'SymbolicLink') {
      this.create(entry.path, at, () => symlinkSync(entry.linkpath ?? '', at));
      if (this.needsChown(entry)) lchownSync(at, entry.uid, entry.gid);
      lutimesSync(at, entry.mtime, entry.mtime);
    } else if (entry.type === 'Link') {
      // The target is an earlier entry of this archive, so it carries its own metadata already. link(2)
      // does not follow a target that is a symlink: it links the symlink itself.
      try {
        const target = this.placeOf(entry.linkpath ?? '', this.linkParents, { createMissing: false });
        this.create(entry.path, at, () => linkSync(target.parent.at(target.name), at));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ELOOP') throw error;
        throw Object.assign(new Error(`archive entry "${entry.path}" is a hard link to "${entry.linkpath}", which no earlier entry holds`), { code });
      }
    } else if (entry.type === 'FIFO') {
      this.create(entry.path, at, () => makeFifo(at, entry.path));
      this.withHandle(openSync(at, OPEN_FIFO), entry);
    }
  }

  /**
   * Applies a GNU dumpdir (dumpdir.ts) to a directory already begun: what it holds that the dumpdir does
   * not name, or names as the other kind (a file where a directory is listed, or the reverse), is
   * removed, as `tar --extract --incremental` does. That is how a later link of a chain deletes and renames.
   */
  purge(path: string, listing: ReadonlyMap<string, DumpdirCode>): void {
    const directory = path === '' ? this.root : this.entryParents.directory(path.split('/'), { createMissing: false });
    for (const name of readdirSync(directory.at(''))) {
      const code = listing.get(name);
      if (code === 'N') continue;
      const at = directory.at(name);
      const isDirectory = code === undefined ? false : lstatSync(at).isDirectory();
      if (code === undefined || (code === 'D') !== isDirectory) this.replace(path === '' ? name : `${path}/${name}`, at);
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
    this.withHandle(fd, entry);
  }

  /** Applies the directories' metadata; call once every entry has been written. */
  finish(): void {
    const paths = [...this.directories.keys()];
    for (let index = paths.length - 1; index >= 0; index--) {
      const path = paths[index];
      const meta = this.directories.get(path) as DirectoryMeta;
      if (path === '') {
        this.applyMetadata(this.root.fd, meta);
        continue;
      }
      const { parent, name } = this.placeOf(path, this.entryParents, { createMissing: false });
      const directory = parent.openDirectory(name);
      try {
        this.applyMetadata(directory.fd, meta);
      } finally {
        directory.close();
      }
    }
    this.release();
  }

  /** Closes what a failure left open; the caller deletes the whole tree. */
  abandon(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.release();
  }

  private release(): void {
    this.entryParents.close();
    this.linkParents.close();
    this.root.close();
  }

  /** Sets an entry's metadata through a handle of it, then closes the handle. */
  private withHandle(fd: number, meta: { mode: number; uid: number; gid: number; mtime: Date }): void {
    try {
      this.applyMetadata(fd, meta);
    } finally {
      closeSync(fd);
    }
  }

  private applyMetadata(fd: number, meta: { mode: number; uid: number; gid: number; mtime: Date }): void {
    // Owner first: chown clears the set-user-ID and set-group-ID bits that chmod then sets.
    if (this.needsChown(meta)) fchownSync(fd, meta.uid, meta.gid);
    fchmodSync(fd, meta.mode & this.permissionBits);
    futimesSync(fd, meta.mtime, meta.mtime);
  }

  /** Whether the name must be given its owner: only root can, and only when it does not have it already. */
  private needsChown(owner: { uid: number; gid: number }): boolean {
    if (!this.ownership) return false;
    const created = this.createdOwner;
    return created === undefined || owner.uid !== created.uid || owner.gid !== created.gid;
  }

  /** The open parent directory of a normalized path, and the path's last component. */
  private placeOf(path: string, chain: DirectoryChain, options = { createMissing: true }): { parent: PinnedDirectory; name: string } {
    const parts = path.split('/');
    const name = parts.pop() as string;
    return { parent: chain.directory(parts, options), name };
  }

  private makeDirectory(path: string, at: string): void {
    try {
      mkdirSync(at, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A directory given again keeps its content and takes the later metadata, as with GNU tar.
      if (lstatSync(at).isDirectory()) return;
      this.replace(path, at);
      mkdirSync(at, { mode: 0o700 });
    }
  }

  /** Runs make(); an existing name (the archive gives the path again) is replaced and make() tried again. */
  private create<T>(path: string, at: string, make: () => T): T {
    try {
      return make();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      this.replace(path, at);
      return make();
    }
  }

  /** Removes what has the name, and everything recorded or held open for it and below it. */
  private replace(path: string, at: string): void {
    rmSync(at, { recursive: true, force: true });
    const below = `${path}/`;
    for (const recorded of this.directories.keys()) {
      if (recorded === path || recorded.startsWith(below)) this.directories.delete(recorded);
    }
    const parts = path.split('/');
    this.entryParents.forget(parts);
    this.linkParents.forget(parts);
  }
}

/** Node has no mkfifo(3); the plugin's rootfs ships busybox's mkfifo (rootfs-build/build.sh). */
function makeFifo(at: string, path: string): void {
  const result = spawnSync('mkfifo', ['-m', '600', '--', at], { encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const reason = result.stderr.trim() || `exit code ${result.status}`;
    throw Object.assign(new Error(`mkfifo ${path} failed: ${reason}`), { code: /exists/i.test(reason) ? 'EEXIST' : 'EMKFIFO' });
  }
}
