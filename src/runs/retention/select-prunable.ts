import { calendarPeriod } from './calendar-period';
import { CALENDAR_BUCKETS, type CalendarBucket, type RetentionPolicy } from '../../vocabulary/retention-policy';

export interface DatedArchive {
  name: string;
  createdAt: Date;
}

/**
 * The names of the archives that `policy` no longer keeps at `now`, oldest first (so an interrupted prune
 * has removed the oldest). Whatever the policy, the newest archive is kept, and so is any whose date is not
 * a valid date: nothing says it is old.
 */
export function selectPrunable(archives: readonly DatedArchive[], policy: RetentionPolicy, now: Date): string[] {
  const newestFirst = archives
    .filter((archive) => !Number.isNaN(archive.createdAt.getTime()))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compareNames(b.name, a.name));
  const kept = keptPositions(newestFirst, policy, now);
  kept.add(0);
  return newestFirst
    .filter((_, position) => !kept.has(position))
    .map((archive) => archive.name)
    .reverse();
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
