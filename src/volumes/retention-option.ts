import { parseDuration } from '../shared/duration';
import { CALENDAR_BUCKETS, type CalendarBucket, type RetentionPolicy } from '../vocabulary/retention-policy';

export const RETENTION_FORMS =
  'accepted: "all" or nothing to keep every archive; a whole number N to keep the last N (e.g. 7); ' +
  'an age to keep archives younger than it (e.g. 30d, 12h, 90m, 2w); or calendar buckets keeping the ' +
  'newest archive of each of the last N hours, days, weeks, months, years, any subset with each key once ' +
  '(e.g. hourly=24,daily=7,weekly=4,monthly=12,yearly=2)';

/** Parses `backup-retention`. Throws an Error saying what is wrong and what is accepted. */
export function parseRetention(text: string): RetentionPolicy {
  const value = text.trim();
  if (value === '' || value === 'all') return { kind: 'keep-all' };
  if (/^\d+$/.test(value)) return { kind: 'keep-last', count: positiveCount(value, value) };
  if (value.includes('=')) return { kind: 'calendar', buckets: parseBuckets(value) };
  const maxAgeMs = parseDuration(value);
  if (maxAgeMs === undefined) throw rejection(`"${value}" is not a retention`);
  if (maxAgeMs <= 0 || !Number.isSafeInteger(maxAgeMs)) throw rejection(`the age "${value}" must be more than zero and finite`);
  return { kind: 'max-age', maxAgeMs };
}

function parseBuckets(value: string): Partial<Record<CalendarBucket, number>> {
  const buckets: Partial<Record<CalendarBucket, number>> = {};
  for (const part of value.split(',').map((piece) => piece.trim())) {
    const match = /^([a-z]+)\s*=\s*(\S*)$/.exec(part);
    if (!match) throw rejection(`"${part}" is not of the form bucket=count`);
    const [, key, count] = match;
    if (!(CALENDAR_BUCKETS as readonly string[]).includes(key)) {
      throw rejection(`"${key}" is not one of ${CALENDAR_BUCKETS.join(', ')}`);
    }
    const bucket = key as CalendarBucket;
    if (buckets[bucket] !== undefined) throw rejection(`"${bucket}" is given twice`);
    buckets[bucket] = positiveCount(count, part);
  }
  return buckets;
}

function positiveCount(count: string, context: string): number {
  const parsed = /^\d+$/.test(count) ? Number(count) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw rejection(`"${context}": counts are whole numbers from 1`);
  }
  return parsed;
}

function rejection(what: string): Error {
  return new Error(`${what}; ${RETENTION_FORMS}`);
}
