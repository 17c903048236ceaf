import {
  chmodSync,
  constants,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  type BigIntStats,
  type Dirent,
} from 'node:fs';
import { createExcludeMatcher, type ExcludeMatcher } from '../archive/exclude-matcher';
import { childPath, isGone, lstatIfExists, nameKey, underRoot } from './byte-path';
import { applyMetadata, sameMtime, type EntryMetadata, type MetadataPolicy } from './entry-metadata';

// The walk itself, synchronous: it runs in a worker thread (see sync-mirror.ts for why).

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

export function walkMirror(setup: MirrorWalkSetup): MirrorCounts {
  const walk = new MirrorWalk(setup);
  const root = Buffer.alloc(0);
  walk.syncDirectory(root, lstatSync(setup.source, { bigint: true }), lstatIfExists(Buffer.from(setup.mirror)));
  return walk.counts;
}

interface Leaf {
  sourcePath: Buffer;
  mirrorPath: Buffer;
  source: BigIntStats;
  mirror: BigIntStats | undefined;
  /** Wall-clock time just before `source` was read. */
  inspectedAtMs: number;
}

class MirrorWalk {
  readonly counts: MirrorCounts = {
    filesCopied: 0,
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

  constructor(private readonly setup: MirrorWalkSetup) {
    this.source = Buffer.from(setup.source);
    this.mirror = Buffer.from(setup.mirror);
    this.excluded = createExcludeMatcher(setup.exclude);
    this.policy = { preserveOwnership: setup.preserveOwnership };
  }

  /** Returns whether the parent directory's entries changed (so its mtime must be set again). */
  syncDirectory(rel: Buffer, source: BigIntStats, existing: BigIntStats | undefined): boolean {
    const mirrorDir = underRoot(this.mirror, rel);
    const { current, created } = this.prepareMirrorDirectory(mirrorDir, existing);
    const listing = this.listDirectory(rel, mirrorDir);
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
      if (this.syncEntry(childPath(rel, entry.name))) childrenChanged = true;
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
  private listDirectory(rel: Buffer, mirrorDir: Buffer): { wanted: Dirent<Buffer>[]; extras: Buffer[] } | undefined {
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(underRoot(this.source, rel), { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      if (isGone(error) && rel.length > 0) return undefined;
      throw error;
    }
    const wanted = entries.filter((entry) => !this.excluded(childPath(rel, entry.name).toString(), entry.isDirectory()));
    const keep = new Set(wanted.map((entry) => nameKey(entry.name)));
    const extras = readdirSync(mirrorDir, { encoding: 'buffer' }).filter((name) => !keep.has(nameKey(name)));
    return { wanted, extras };
  }

  /** Returns whether the parent directory's entries changed. */
  private syncEntry(rel: Buffer): boolean {
    const sourcePath = underRoot(this.source, rel);
    const mirrorPath = underRoot(this.mirror, rel);
    const inspectedAtMs = Date.now(); // before the lstat: an earlier time only makes more copies racy
    const source = lstatIfExists(sourcePath);
    const mirror = lstatIfExists(mirrorPath);
    if (!source) return this.removeIfPresent(mirrorPath, mirror);
    this.counts.entriesScanned++;
    if (source.isDirectory()) return this.syncDirectory(rel, source, mirror);
    const leaf: Leaf = { sourcePath, mirrorPath, source, mirror, inspectedAtMs };
    try {
      return this.syncLeaf(leaf);
    } catch (error) {
      if (!isGone(error) || lstatIfExists(sourcePath)) throw error;
      // Deleted while we copied it (the live pass): the next pass sees it gone.
      rmSync(mirrorPath, { recursive: true, force: true });
      return true;
    }
  }

  private syncLeaf(leaf: Leaf): boolean {
    if (leaf.source.isFile()) return this.syncFile(leaf);
    if (leaf.source.isSymbolicLink()) return this.syncSymlink(leaf);
    this.counts.entriesSkipped++;
    return this.removeIfPresent(leaf.mirrorPath, leaf.mirror);
  }

  private syncFile({ sourcePath, mirrorPath, source, mirror, inspectedAtMs }: Leaf): boolean {
    if (mirror?.isFile() && mirror.size === source.size && sameMtime(mirror, source)) {
      return this.refreshMetadata(mirrorPath, source, mirror);
    }
    // Always a fresh inode: writing into the old one would fail on a read-only mode for a non-root run.
    if (mirror) rmSync(mirrorPath, { recursive: true, force: true });
    copyFileSync(sourcePath, mirrorPath, constants.COPYFILE_FICLONE);
    this.counts.filesCopied++;
    this.counts.bytesCopied += Number(source.size);
    // The mtime read before copying, never after: if the file changes meanwhile, the mirror looks older
    // than the source and the next pass copies it again. The one change that keeps the mtime is a write
    // within the same timestamp tick, which only a file modified just now can get: such copies are racy.
    const racy = this.setup.sourceIsLive && source.mtimeNs > BigInt(inspectedAtMs) * 1_000_000n - RACY_WINDOW_NS;
    applyMetadata({ path: mirrorPath, source, mtimeNs: racy ? RACY_MTIME_NS : undefined, policy: this.policy });
    return true;
  }

  private syncSymlink({ sourcePath, mirrorPath, source, mirror }: Leaf): boolean {
    const target = readlinkSync(sourcePath, { encoding: 'buffer' });
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
