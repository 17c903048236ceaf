import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  type BigIntStats,
  type Dirent,
} from 'node:fs';
import { createExcludeMatcher, type ExcludeMatcher } from '../vocabulary/exclude-matcher';
import { PinnedDirectory } from '../shared/pinned-directory';
import { childPath, isGone, lstatIfExists, nameKey, underRoot } from './byte-path';
import { applyMetadata, sameMtime, type EntryMetadata, type MetadataPolicy } from './entry-metadata';

// The walk itself, synchronous: it runs in a worker thread (see sync-mirror.ts for why).
//
// The source is a live volume that a container may rearrange at any moment, swapping a file or a folder
// for a symlink between two calls. So the source is never reached by path: each source directory is held
// open (PinnedDirectory) and every name is looked up, read or listed from its parent's handle, without
// following it. A swap can then only make an entry look changed or vanished; it never leads the walk, or
// the content it copies, outside the volume. The mirror is the plugin's own folder, reached by path.
//
// One exception, for speed: the lstat that decides whether an entry changed goes by path (a lookup
// through /proc costs ~60% more, and that scan is the downtime of a sync snapshot). What it returns only
// selects the next step; every step that reads content, lists a folder or copies metadata of a changed
// entry goes through the handles, and a file's copy is described by fstat of what was opened.

export interface MirrorWalkSetup {
  /** Both absolute, symlinks resolved, neither inside the other. */
  source: string;
  mirror: string;
  exclude: readonly string[];
  /** See SyncMirrorOptions.sourceIsLive. */
  sourceIsLive: boolean;
  preserveOwnership: boolean;
  runningAsRoot: boolean;
}

export interface MirrorCounts {
  /** Regular files copied and symlinks written. */
  filesCopied: number;
  /** Further names of a file with several (hard links), linked to its first name in the mirror. */
  filesLinked: number;
  bytesCopied: number;
  /** Entries left in place whose owner, mode or mtime alone was set again. */
  metadataUpdated: number;
  /** Mirror entries with no counterpart in the source, or excluded (a removed directory counts once). */
  entriesRemoved: number;
  /** Source entries looked at, the root and excluded ones not counted. */
  entriesScanned: number;
  /** Sockets, FIFOs and device nodes: Node cannot create them, and tar leaves sockets out anyway. */
  entriesSkipped: number;
}

/**
 * How recent an mtime must be, when it is read, for its copy to count as racy: more than a timestamp tick
 * (a few ms on Linux, 1 or 2 s on some filesystems), so that any later write gets a new mtime.
 */
const RACY_WINDOW_NS = 2_000_000_000n;
/** A racy copy gets the epoch as mtime: no file that was just written has it, so the next pass copies it. */
const RACY_MTIME_NS = 0n;
/** O_NOFOLLOW: a file swapped for a symlink fails (ELOOP); O_NONBLOCK: one swapped for a FIFO does not block. */
const OPEN_SOURCE_FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * What a source entry deleted or swapped for another type during the walk makes a call fail with: gone
 * (ENOENT, ENOTDIR), a symlink where none was (ELOOP), no symlink any more for readlink (EINVAL).
 */
function isSwapped(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return isGone(error) || code === 'ELOOP' || code === 'EINVAL';
}

export function walkMirror(setup: MirrorWalkSetup): MirrorCounts {
  const walk = new MirrorWalk(setup);
  const source = PinnedDirectory.open(setup.source);
  try {
    walk.syncDirectory(Buffer.alloc(0), source, fstatSync(source.fd, { bigint: true }), lstatIfExists(Buffer.from(setup.mirror)));
  } finally {
    source.close();
  }
  return walk.counts;
}

interface Leaf {
  /** The entry's directory in the source, and its name there. */
  sourceDir: PinnedDirectory;
  name: Buffer;
  mirrorPath: Buffer;
  source: BigIntStats;
  mirror: BigIntStats | undefined;
  /** Wall-clock time just before `source` was read. */
  inspectedAtMs: number;
}

class MirrorWalk {
  readonly counts: MirrorCounts = {
    filesCopied: 0,
    filesLinked: 0,
    bytesCopied: 0,
    metadataUpdated: 0,
    entriesRemoved: 0,
    entriesScanned: 0,
    entriesSkipped: 0,
  };
  private readonly source: Buffer;
  private readonly mirror: Buffer;
  private readonly excluded: ExcludeMatcher;
  private readonly policy: MetadataPolicy;
  /** Source files with several names (dev:ino) and the mirror path of the first name this pass met. */
  private readonly linkedFiles = new Map<string, Buffer>();

  constructor(private readonly setup: MirrorWalkSetup) {
    this.source = Buffer.from(setup.source);
    this.mirror = Buffer.from(setup.mirror);
    this.excluded = createExcludeMatcher(setup.exclude);
    this.policy = { preserveOwnership: setup.preserveOwnership };
  }

  /** Returns whether the parent directory's entries changed (so its mtime must be set again). */
  syncDirectory(rel: Buffer, sourceDir: PinnedDirectory, source: BigIntStats, existing: BigIntStats | undefined): boolean {
    const mirrorDir = underRoot(this.mirror, rel);
    const { current, created } = this.prepareMirrorDirectory(mirrorDir, existing);
    const listing = this.listDirectory(rel, sourceDir, mirrorDir);
    if (!listing) {
      // Deleted while we walk (the live pass): the next pass sees the rest.
      rmSync(mirrorDir, { recursive: true, force: true });
      return true;
    }
    for (const name of listing.extras) {
      rmSync(childPath(mirrorDir, name), { recursive: true, force: true });
      this.counts.entriesRemoved++;
    }
    let childrenChanged = false;
    for (const entry of listing.wanted) {
      if (this.syncEntry(rel, sourceDir, entry.name)) childrenChanged = true;
    }
    const forceTimes = created || listing.extras.length > 0 || childrenChanged;
    const differed = applyMetadata({ path: mirrorDir, source, current, forceTimes, policy: this.policy });
    if (differed && current) this.counts.metadataUpdated++;
    return created;
  }

  /** A directory the walk can write into: created, or put in place of what had the name, or made writable. */
  private prepareMirrorDirectory(mirrorDir: Buffer, existing: BigIntStats | undefined) {
    if (!existing?.isDirectory()) {
      if (existing) rmSync(mirrorDir, { recursive: true, force: true });
      mkdirSync(mirrorDir, { mode: 0o700 });
      return { current: undefined, created: true };
    }
    let current: EntryMetadata = { mode: existing.mode, uid: existing.uid, gid: existing.gid, mtimeNs: existing.mtimeNs };
    if (!this.setup.runningAsRoot && (current.mode & 0o700n) !== 0o700n) {
      // Root writes into a read-only directory anyway; another user needs the bits until the final mode
      // is set after the content (and then counts the directory as updated on every pass).
      current = { ...current, mode: current.mode | 0o700n };
      chmodSync(mirrorDir, Number(current.mode & 0o7777n));
    }
    return { current, created: false };
  }

  /** The entries to sync and the mirror's names to remove; undefined when the source directory vanished. */
  private listDirectory(rel: Buffer, sourceDir: PinnedDirectory, mirrorDir: Buffer): { wanted: Dirent<Buffer>[]; extras: Buffer[] } | undefined {
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(sourceDir.at(''), { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      // A directory deleted after it was opened lists as ENOENT.
      if (isGone(error) && rel.length > 0) return undefined;
      throw error;
    }
    const wanted = entries.filter((entry) => !this.excluded(childPath(rel, entry.name).toString(), entry.isDirectory()));
    const keep = new Set(wanted.map((entry) => nameKey(entry.name)));
    const extras = readdirSync(mirrorDir, { encoding: 'buffer' }).filter((name) => !keep.has(nameKey(name)));
    return { wanted, extras };
  }

  /** Returns whether the parent directory's entries changed. */
  private syncEntry(parentRel: Buffer, sourceDir: PinnedDirectory, name: Buffer): boolean {
    const rel = childPath(parentRel, name);
    const mirrorPath = underRoot(this.mirror, rel);
    const inspectedAtMs = Date.now(); // before the lstat: an earlier time only makes more copies racy
    const source = lstatIfExists(underRoot(this.source, rel));
    const mirror = lstatIfExists(mirrorPath);
    if (!source) return this.removeIfPresent(mirrorPath, mirror);
    this.counts.entriesScanned++;
    try {
      if (source.isDirectory()) return this.syncSubdirectory(rel, sourceDir, name, mirror);
      return this.syncLeaf({ sourceDir, name, mirrorPath, source, mirror, inspectedAtMs });
    } catch (error) {
      if (!isSwapped(error)) throw error;
      // Deleted, or replaced by something of another type, while we copied it (the live pass): the next
      // pass sees what is there then.
      rmSync(mirrorPath, { recursive: true, force: true });
      return true;
    }
  }

  private syncSubdirectory(rel: Buffer, parent: PinnedDirectory, name: Buffer, mirror: BigIntStats | undefined): boolean {
    const directory = parent.openDirectory(name);
    try {
      return this.syncDirectory(rel, directory, fstatSync(directory.fd, { bigint: true }), mirror);
    } finally {
      directory.close();
    }
  }

  private syncLeaf(leaf: Leaf): boolean {
    if (leaf.source.isFile()) return this.syncFile(leaf);
    if (leaf.source.isSymbolicLink()) return this.syncSymlink(leaf);
    this.counts.entriesSkipped++;
    return this.removeIfPresent(leaf.mirrorPath, leaf.mirror);
  }

  /**
   * A file with several names is copied once, at the first name the walk meets, and linked at the others,
   * so that the mirror (and the archive made from it) keeps the volume's hard links.
   */
  private syncFile(leaf: Leaf): boolean {
    const key = leaf.source.nlink > 1n ? `${leaf.source.dev}:${leaf.source.ino}` : undefined;
    const firstName = key === undefined ? undefined : this.linkedFiles.get(key);
    if (firstName !== undefined) return this.linkToFirstName(firstName, leaf);
    const changed = this.syncFileContent(leaf);
    if (key !== undefined) this.linkedFiles.set(key, leaf.mirrorPath);
    return changed;
  }

  private linkToFirstName(firstName: Buffer, { mirrorPath, mirror }: Leaf): boolean {
    const first = lstatSync(firstName, { bigint: true });
    if (mirror && mirror.ino === first.ino && mirror.dev === first.dev) return false;
    if (mirror) rmSync(mirrorPath, { recursive: true, force: true });
    linkSync(firstName, mirrorPath);
    this.counts.filesLinked++;
    return true;
  }

  private syncFileContent({ sourceDir, name, mirrorPath, source: listed, mirror, inspectedAtMs }: Leaf): boolean {
    // A mirror file still linked to other names whose source now has one name is copied afresh.
    const linkedInMirrorOnly = mirror !== undefined && mirror.nlink > 1n && listed.nlink === 1n;
    if (mirror?.isFile() && !linkedInMirrorOnly && mirror.size === listed.size && sameMtime(mirror, listed)) {
      return this.refreshMetadata(mirrorPath, listed, mirror);
    }
    const fd = openSync(sourceDir.at(name), OPEN_SOURCE_FILE);
    try {
      // What was opened is what gets copied and described, whatever the name held a moment ago.
      const source = fstatSync(fd, { bigint: true });
      if (!source.isFile()) throw Object.assign(new Error('replaced while being copied'), { code: 'ENOENT' });
      return this.copyFile(fd, { sourceDir, name, mirrorPath, source, mirror, inspectedAtMs });
    } finally {
      closeSync(fd);
    }
  }

  private copyFile(fd: number, { mirrorPath, source, mirror, inspectedAtMs }: Leaf): boolean {
    // Always a fresh inode: writing into the old one would fail on a read-only mode for a non-root run.
    if (mirror) rmSync(mirrorPath, { recursive: true, force: true });
    // The descriptor's own /proc name opens the very file held open (copyFileSync takes only paths).
    copyFileSync(`/proc/${process.pid}/fd/${fd}`, mirrorPath, constants.COPYFILE_FICLONE);
    this.counts.filesCopied++;
    this.counts.bytesCopied += Number(source.size);
    // The mtime read before copying, never after: if the file changes meanwhile, the mirror looks older
    // than the source and the next pass copies it again. The one change that keeps the mtime is a write
    // within the same timestamp tick, which only a file modified just now can get: such copies are racy.
    const racy = this.setup.sourceIsLive && source.mtimeNs > BigInt(inspectedAtMs) * 1_000_000n - RACY_WINDOW_NS;
    applyMetadata({ path: mirrorPath, source, mtimeNs: racy ? RACY_MTIME_NS : undefined, policy: this.policy });
    return true;
  }

  private syncSymlink({ sourceDir, name, mirrorPath, source, mirror }: Leaf): boolean {
    const target = readlinkSync(sourceDir.at(name), { encoding: 'buffer' });
    if (mirror?.isSymbolicLink() && readlinkSync(mirrorPath, { encoding: 'buffer' }).equals(target)) {
      return this.refreshMetadata(mirrorPath, source, mirror);
    }
    if (mirror) rmSync(mirrorPath, { recursive: true, force: true });
    symlinkSync(target, mirrorPath);
    this.counts.filesCopied++;
    applyMetadata({ path: mirrorPath, source, policy: this.policy });
    return true;
  }

  /** Removes a mirror entry whose source is gone or cannot be mirrored; returns whether there was one. */
  private removeIfPresent(path: Buffer, existing: BigIntStats | undefined): boolean {
    if (!existing) return false;
    rmSync(path, { recursive: true, force: true });
    this.counts.entriesRemoved++;
    return true;
  }

  private refreshMetadata(path: Buffer, source: BigIntStats, current: BigIntStats): boolean {
    if (applyMetadata({ path, source, current, policy: this.policy })) this.counts.metadataUpdated++;
    return false;
  }
}
