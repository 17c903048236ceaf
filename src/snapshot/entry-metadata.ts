import { chmodSync, lchownSync, lutimesSync, mkdirSync, rmSync, type BigIntStats } from 'node:fs';

/** The parts of an entry's metadata that a mirror reproduces. */
export interface EntryMetadata {
  mode: bigint;
  uid: bigint;
  gid: bigint;
  mtimeNs: bigint;
}

export interface MetadataPolicy {
  /** chown needs root; a run as another user keeps its own ids and does not compare them. */
  preserveOwnership: boolean;
}

/**
 * utimes takes seconds as a double and libuv truncates them to microseconds, so a copied mtime lands up to
 * about 1.3 µs from the source's nanoseconds. Closer than 2 µs counts as equal; anything looser would let
 * a real change slip by, anything tighter would copy every file again on every run.
 */
const MTIME_TOLERANCE_NS = 2_000n;

export function sameMtime(a: { mtimeNs: bigint }, b: { mtimeNs: bigint }): boolean {
  const difference = a.mtimeNs - b.mtimeNs;
  return difference < MTIME_TOLERANCE_NS && difference > -MTIME_TOLERANCE_NS;
}

/**
 * Gives the mirror entry at `path` the owner, mode and times of `source`, touching only what differs from
 * `current` (everything when it is a new entry). Owner first, since chown clears setuid/setgid bits;
 * symlinks have no mode of their own on Linux. Returns whether anything differed.
 */
export function applyMetadata(input: {
  path: Buffer;
  source: BigIntStats;
  current?: EntryMetadata;
  /** The entry's content just changed its mtime (a directory that gained or lost entries), so set it. */
  forceTimes?: boolean;
  /** Stamp this mtime instead of the source's; see RACY_MTIME_NS in mirror-walk.ts. */
  mtimeNs?: bigint;
  policy: MetadataPolicy;
}): boolean {
  const { path, source, current, policy } = input;
  const mtimeNs = input.mtimeNs ?? source.mtimeNs;
  const ownerDiffers =
    policy.preserveOwnership && (!current || current.uid !== source.uid || current.gid !== source.gid);
  const modeDiffers = !source.isSymbolicLink() && (!current || permissions(current) !== permissions(source));
  const timesDiffer = !current || !sameMtime(current, { mtimeNs });
  if (ownerDiffers) lchownSync(path, Number(source.uid), Number(source.gid));
  if (modeDiffers || (ownerDiffers && !source.isSymbolicLink())) chmodSync(path, Number(permissions(source)));
  if (timesDiffer || input.forceTimes) lutimesSync(path, toSeconds(source.atimeNs), toSeconds(mtimeNs));
  return ownerDiffers || modeDiffers || timesDiffer;
}

function permissions(entry: { mode: bigint }): bigint {
  return entry.mode & 0o7777n;
}

/** Whole seconds and the fraction apart, so the double loses no more than it must. */
function toSeconds(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

export function metadataOf(stats: BigIntStats): EntryMetadata {
  return { mode: stats.mode, uid: stats.uid, gid: stats.gid, mtimeNs: stats.mtimeNs };
}

/** The same inode, unchanged: what a later call found is what an earlier one described. */
export function sameEntry(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.ctimeNs === b.ctimeNs;
}

/**
 * A mirror directory the walk can write into: created, or put in place of what had the name, or made
 * writable; `current` is what it holds now (undefined when created).
 */
export function prepareMirrorDirectory(mirrorDir: Buffer, existing: BigIntStats | undefined, runningAsRoot: boolean): { current?: EntryMetadata; created: boolean } {
  if (!existing?.isDirectory()) {
    if (existing) rmSync(mirrorDir, { recursive: true, force: true });
    mkdirSync(mirrorDir, { mode: 0o700 });
    return { current: undefined, created: true };
  }
  let current = metadataOf(existing);
  if (!runningAsRoot && (current.mode & 0o700n) !== 0o700n) {
    // Root writes into a read-only directory anyway; another user needs the bits until the final mode
    // is set after the content (and then counts the directory as updated on every pass).
    current = { ...current, mode: current.mode | 0o700n };
    chmodSync(mirrorDir, Number(current.mode & 0o7777n));
  }
  return { current, created: false };
}
