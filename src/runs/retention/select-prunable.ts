import { calendarPeriod } from './calendar-period';
import { CALENDAR_BUCKETS, type CalendarBucket, type RetentionPolicy } from '../../vocabulary/retention-policy';

export interface DatedArchive {
  name: string;
  createdAt: Date;
  /** The archive this one is an incremental on (its manifest's base); absent for a full one. */
  base?: string;
}

/**
 * The names of the archives that `policy` no longer keeps at `now`. Whatever the policy, the newest archive
 * is kept, and so is any whose date is not a valid date: nothing says it is old. The policy counts points
 * in time (every archive, full or incremental, is one); an archive kept keeps every archive it is based on,
 * so no kept archive loses a link of its chain, and the newest chain is always whole.
 *
 * Oldest first (so an interrupted prune has removed the oldest), except that an archive comes after every
 * pruned archive based on it: a prune stopped halfway never leaves an incremental without its base.
 */
export function selectPrunable(archives: readonly DatedArchive[], policy: RetentionPolicy, now: Date): string[] {
  const newestFirst = archives
    .filter((archive) => !Number.isNaN(archive.createdAt.getTime()))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compareNames(b.name, a.name));
  const kept = keptPositions(newestFirst, policy, now);
  kept.add(0);
  const keptNames = new Set(newestFirst.filter((_, position) => kept.has(position)).map((archive) => archive.name));
  for (const archive of archives) if (Number.isNaN(archive.createdAt.getTime())) keptNames.add(archive.name);
  keepBases(keptNames, archives);
  const oldestFirst = newestFirst.filter((archive) => !keptNames.has(archive.name)).reverse();
  return dependentsFirst(oldestFirst).map((archive) => archive.name);
}

/** Adds to `kept` the base of each archive in it, and their bases in turn. */
function keepBases(kept: Set<string>, archives: readonly DatedArchive[]): void {
  const baseOf = new Map(archives.map((archive) => [archive.name, archive.base]));
  const pending = [...kept];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const base = baseOf.get(name);
    if (base !== undefined && !kept.has(base)) {
      kept.add(base);
      pending.push(base);
    }
  }
}

/**
 * `oldestFirst` reordered so that each archive follows those based on it: archives are grouped by the
 * oldest pruned archive their bases lead to (groups oldest first), and in a group the farther an archive is
 * from that one, the sooner it goes.
 */
function dependentsFirst(oldestFirst: readonly DatedArchive[]): DatedArchive[] {
  const pruned = new Set(oldestFirst.map((archive) => archive.name));
  const dependents = new Map<string, DatedArchive[]>();
  for (const archive of oldestFirst) {
    if (archive.base === undefined || !pruned.has(archive.base)) continue;
    dependents.set(archive.base, [...(dependents.get(archive.base) ?? []), archive]);
  }
  const ordered: DatedArchive[] = [];
  const placed = new Set<string>();
  const roots = oldestFirst.filter((archive) => archive.base === undefined || !pruned.has(archive.base));
  // Bases that lead round in a circle have no root: they go last, oldest first.
  for (const root of [...roots, ...oldestFirst]) {
    if (placed.has(root.name)) continue;
    const group: DatedArchive[][] = [];
    for (let level = [root]; level.length > 0; level = level.flatMap((archive) => dependents.get(archive.name) ?? [])) {
      level = level.filter((archive) => !placed.has(archive.name));
      for (const archive of level) placed.add(archive.name);
      group.push(level);
    }
    for (const level of group.reverse()) ordered.push(...[...level].reverse());
  }
  return ordered;
}

/** Positions in `newestFirst` that the policy keeps. */
function keptPositions(newestFirst: readonly DatedArchive[], policy: RetentionPolicy, now: Date): Set<number> {
  const all = newestFirst.map((_, position) => position);
  switch (policy.kind) {
    case 'keep-all':
      return new Set(all);
    case 'keep-last':
      return new Set(all.slice(0, policy.count));
    case 'max-age': {
      // Written as "prunable when older", so a cutoff that is not a number prunes nothing.
      const cutoff = now.getTime() - policy.maxAgeMs;
      return new Set(all.filter((position) => !(newestFirst[position].createdAt.getTime() < cutoff)));
    }
    case 'calendar': {
      const kept = new Set<number>();
      for (const bucket of CALENDAR_BUCKETS) {
        for (const position of newestPerPeriod(newestFirst, bucket, policy.buckets[bucket] ?? 0)) kept.add(position);
      }
      return kept;
    }
  }
}

/**
 * The newest archive of each of the last `count` periods that have archives (restic's and borg's
 * keep-daily and so on): a week without backups does not use up one of the weeks to keep.
 */
function newestPerPeriod(newestFirst: readonly DatedArchive[], bucket: CalendarBucket, count: number): number[] {
  const positions: number[] = [];
  let lastPeriod: string | undefined;
  for (let position = 0; position < newestFirst.length && positions.length < count; position++) {
    const period = calendarPeriod(bucket, newestFirst[position].createdAt);
    if (period === lastPeriod) continue;
    lastPeriod = period;
    positions.push(position);
  }
  return positions;
}

/** Ties in time are broken by name, so the same input always gives the same answer. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
