import {
  closeSync,
  constants,
  copyFileSync,
  fstatSync,
  linkSync,
  lstatSync,
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
import { childPath, isGone, isSwapped, lstatIfExists, nameKey, underRoot } from './byte-path';
import { applyMetadata, metadataOf, prepareMirrorDirectory, sameEntry, sameMtime, type MetadataPolicy } from './entry-metadata';
import type { SettledEntries } from './settled-entries';

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
  /** Of those scanned, the ones unchanged since the live pass, whose mirror entries were not looked at. */
  entriesSettled: number;
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
 * What a pass does with the memory of the live pass (settled-entries.ts): the live pass records what it
 * left in sync; the pass after the stop trusts it for the entries that have not changed since.
 */
export interface PassMemory {
  record?: SettledEntries;
  trust?: SettledEntries;
}

export function walkMirror(setup: MirrorWalkSetup, memory: PassMemory = {}): MirrorCounts {
  const walk = new MirrorWalk(setup, memory);
  const source = PinnedDirectory.open(setup.source);
  try {
    walk.syncRoot(source);
  } finally {
    source.close();
  }
  return walk.counts;
}

interface Leaf {
  /** The entry's directory in the source, and its name there; its path relative to the source. */
  sourceDir: PinnedDirectory;
  name: Buffer;
  rel: Buffer;
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
    entriesSettled: 0,
  };
  private readonly source: Buffer;
  private readonly mirror: Buffer;
  private readonly excluded: ExcludeMatcher;
  private readonly policy: MetadataPolicy;
  /** Source files with several names (dev:ino) and the mirror path of the first name this pass met. */
  private readonly linkedFiles = new Map<string, Buffer>();

  constructor(
    private readonly setup: MirrorWalkSetup,
    private readonly memory: PassMemory,
  ) {
    this.source = Buffer.from(setup.source);
    this.mirror = Buffer.from(setup.mirror);
    this.excluded = createExcludeMatcher(setup.exclude);
    this.policy = { preserveOwnership: setup.preserveOwnership };
  }

  syncRoot(source: PinnedDirectory): void {
    const inspectedAtMs = Date.now();
    const stats = fstatSync(source.fd, { bigint: true });
    const root = Buffer.alloc(0);
    if (this.memory.trust?.unchanged(root, stats)) this.syncDirectory(root, source, stats, { listingKnown: true });
    else this.syncDirectory(root, source, stats, { existing: lstatIfExists(this.mirror) });
    this.rememberDirectory(root, stats, stats, inspectedAtMs);
  }

  /**
   * Returns whether the parent directory's entries changed (so its mtime must be set again). With
   * `listingKnown`, the directory's names are what the live pass saw, and the mirror's folder what it made
   * of them (settled-entries.ts): the folder is neither looked at nor listed.
   */
  private syncDirectory(rel: Buffer, sourceDir: PinnedDirectory, source: BigIntStats, mirrorState: { existing?: BigIntStats; listingKnown?: boolean }): boolean {
    const mirrorDir = underRoot(this.mirror, rel);
    const listingKnown = mirrorState.listingKnown === true;
    const { current, created } = listingKnown ? { current: metadataOf(source), created: false } : prepareMirrorDirectory(mirrorDir, mirrorState.existing, this.setup.runningAsRoot);
    const listing = this.listDirectory(rel, sourceDir, listingKnown ? undefined : mirrorDir);
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

  /**
   * The entries to sync and the mirror's names to remove (none looked for without `mirrorDir`); undefined
   * when the source directory vanished.
   */
  private listDirectory(rel: Buffer, sourceDir: PinnedDirectory, mirrorDir: Buffer | undefined): { wanted: Dirent<Buffer>[]; extras: Buffer[] } | undefined {
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(sourceDir.at(''), { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      // A directory deleted after it was opened lists as ENOENT.
      if (isGone(error) && rel.length > 0) return undefined;
      throw error;
    }
    const wanted = entries.filter((entry) => !this.excluded(childPath(rel, entry.name).toString(), entry.isDirectory()));
    if (mirrorDir === undefined) return { wanted, extras: [] };
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
    // As the live pass left it: the mirror holds it already (a folder still has its entries to see).
    const settled = source !== undefined && this.memory.trust?.unchanged(rel, source) === true;
    const mirror = settled ? undefined : lstatIfExists(mirrorPath);
    if (!source) return this.removeIfPresent(mirrorPath, mirror);
    this.counts.entriesScanned++;
    if (settled) this.counts.entriesSettled++;
    try {
      if (source.isDirectory()) return this.syncSubdirectory(rel, sourceDir, name, source, settled ? 'settled' : mirror, inspectedAtMs);
      if (settled) return false;
      return this.syncLeaf({ sourceDir, name, rel, mirrorPath, source, mirror, inspectedAtMs });
    } catch (error) {
      if (!isSwapped(error)) throw error;
      // Deleted, or replaced by something of another type, while we copied it (the live pass): the next
      // pass sees what is there then.
      rmSync(mirrorPath, { recursive: true, force: true });
      return true;
    }
  }

  /** `mirror`: its mirror entry, or 'settled' when not looked at (the folder is as the live pass saw it). */
  private syncSubdirectory(rel: Buffer, parent: PinnedDirectory, name: Buffer, listed: BigIntStats, mirror: BigIntStats | undefined | 'settled', inspectedAtMs: number): boolean {
    const directory = parent.openDirectory(name);
    try {
      const opened = fstatSync(directory.fd, { bigint: true });
      // The folder listed is the one opened: swapped in between, it is looked at afresh.
      const listingKnown = mirror === 'settled' && sameEntry(opened, listed);
      const existing = mirror === 'settled' ? (listingKnown ? undefined : lstatIfExists(underRoot(this.mirror, rel))) : mirror;
      const created = this.syncDirectory(rel, directory, opened, { existing, listingKnown });
      this.rememberDirectory(rel, listed, opened, inspectedAtMs);
      return created;
    } finally {
      directory.close();
    }
  }

  /**
   * A folder is remembered once its content is in sync, as it was listed; not when another user runs the
   * walk and the folder is closed to it (the walk opens such folders on every pass, see prepareMirrorDirectory).
   */
  private rememberDirectory(rel: Buffer, listed: BigIntStats, opened: BigIntStats, inspectedAtMs: number): void {
    if (!this.memory.record || !sameEntry(opened, listed)) return;
    if (!this.setup.runningAsRoot && (listed.mode & 0o700n) !== 0o700n) return;
    this.memory.record.remember(rel, listed, inspectedAtMs);
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

  private syncFileContent(leaf: Leaf): boolean {
    const { sourceDir, name, rel, mirrorPath, source: listed, mirror, inspectedAtMs } = leaf;
    // A mirror file still linked to other names whose source now has one name is copied afresh.
    const linkedInMirrorOnly = mirror !== undefined && mirror.nlink > 1n && listed.nlink === 1n;
    if (mirror?.isFile() && !linkedInMirrorOnly && mirror.size === listed.size && sameMtime(mirror, listed)) {
      const updated = this.refreshMetadata(mirrorPath, listed, mirror);
      this.rememberLeaf(leaf);
      return updated;
    }
    const fd = openSync(sourceDir.at(name), OPEN_SOURCE_FILE);
    try {
      // What was opened is what gets copied and described, whatever the name held a moment ago.
      const source = fstatSync(fd, { bigint: true });
      if (!source.isFile()) throw Object.assign(new Error('replaced while being copied'), { code: 'ENOENT' });
      const { racy } = this.copyFile(fd, { sourceDir, name, rel, mirrorPath, source, mirror, inspectedAtMs });
      // A racy copy is stamped to be copied again, and so is not settled.
      if (!racy && sameEntry(source, listed)) this.rememberLeaf(leaf);
      return true;
    } finally {
      closeSync(fd);
    }
  }

  /** Hard links are left out: their first name is met afresh by each pass (linkedFiles). */
  private rememberLeaf({ rel, source, inspectedAtMs }: Leaf): void {
    if (source.nlink === 1n) this.memory.record?.remember(rel, source, inspectedAtMs);
  }

  private copyFile(fd: number, { mirrorPath, source, mirror, inspectedAtMs }: Leaf): { racy: boolean } {
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
    return { racy };
  }

  private syncSymlink(leaf: Leaf): boolean {
    const { sourceDir, name, mirrorPath, source, mirror } = leaf;
    const target = readlinkSync(sourceDir.at(name), { encoding: 'buffer' });
    let changed = false;
    if (mirror?.isSymbolicLink() && readlinkSync(mirrorPath, { encoding: 'buffer' }).equals(target)) {
      this.refreshMetadata(mirrorPath, source, mirror);
    } else {
      if (mirror) rmSync(mirrorPath, { recursive: true, force: true });
      symlinkSync(target, mirrorPath);
      this.counts.filesCopied++;
      applyMetadata({ path: mirrorPath, source, policy: this.policy });
      changed = true;
    }
    // A symlink's target cannot change in place: one with the inode and ctime listed has this target.
    this.rememberLeaf(leaf);
    return changed;
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
