import type { BigIntStats } from 'node:fs';
import { nameKey } from './byte-path';

/**
 * How long ago an entry's ctime must be, when it is read, for the entry to be remembered: more than a
 * timestamp tick (ctime comes from the kernel's coarse clock, a few ms), so that any later change of the
 * entry, its content or, for a directory, its list of names gives it a ctime the memory does not hold.
 */
const SETTLED_AGE_NS = 2_000_000_000n;

/**
 * Entries remembered at most: ~120 bytes each in the worker, so a volume of millions of files costs at
 * most ~12 MiB here; the entries past this are checked against the mirror as before.
 */
export const SETTLED_ENTRIES_LIMIT = 100_000;

/**
 * What the live pass of a sync snapshot left in sync in the mirror, so that the pass with the containers
 * stopped (the downtime) need not look at the mirror again for an entry that has not changed since:
 * one lstat of the source instead of an lstat of both, and no listing of the mirror's folder.
 *
 * An entry is known by its path, inode and ctime. No program can set a ctime: any write, chmod, chown,
 * link or rename gives the inode a new one, and an entry replaced by another has a new inode. A folder's
 * ctime changes with its list of names. So an entry whose inode and ctime match is exactly what the live
 * pass saw, and its mirror entry exactly what that pass made of it. Only entries whose ctime is older than
 * SETTLED_AGE_NS are remembered, so a change within the same tick cannot hide behind an equal ctime.
 */
export class SettledEntries {
  private readonly ctimes = new Map<string, number>();

  constructor(private readonly limit = SETTLED_ENTRIES_LIMIT) {}

  /** `stats`: the entry as read just after `inspectedAtMs`, its mirror entry now in sync with it. */
  remember(rel: Buffer, stats: BigIntStats, inspectedAtMs: number): void {
    if (this.ctimes.size >= this.limit) return;
    if (stats.ctimeNs > BigInt(inspectedAtMs) * 1_000_000n - SETTLED_AGE_NS) return;
    // A double holds a ctime in ns to ~256 ns, far finer than SETTLED_AGE_NS.
    this.ctimes.set(key(rel, stats), Number(stats.ctimeNs));
  }

  /** Whether the entry is as the live pass left it: same inode, same ctime. */
  unchanged(rel: Buffer, stats: BigIntStats): boolean {
    return this.ctimes.get(key(rel, stats)) === Number(stats.ctimeNs);
  }

  get size(): number {
    return this.ctimes.size;
  }
}

function key(rel: Buffer, stats: BigIntStats): string {
  return `${stats.ino}/${nameKey(rel)}`;
}
