import type { CalendarBucket } from '../../vocabulary/retention-policy';

const DAY_MS = 86_400_000;

/**
 * The period of `bucket` that `date` falls in, as a key equal for two dates exactly when they share it.
 * Periods are UTC, so daylight saving never makes an hour or a day twice or not at all; weeks are ISO
 * weeks (Monday to Sunday, numbered in the year that holds their Thursday), as restic and borg count them.
 */
export function calendarPeriod(bucket: CalendarBucket, date: Date): string {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + 1;
  const day = date.getUTCDate();
  switch (bucket) {
    case 'hourly':
      return `${year}-${month}-${day}T${date.getUTCHours()}`;
    case 'daily':
      return `${year}-${month}-${day}`;
    case 'weekly': {
      const { isoYear, week } = isoWeek(date);
      return `${isoYear}-W${week}`;
    }
    case 'monthly':
      return `${year}-${month}`;
    case 'yearly':
      return `${year}`;
  }
}

export function isoWeek(date: Date): { isoYear: number; week: number } {
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const daysFromMonday = (date.getUTCDay() + 6) % 7;
  const thursday = new Date(midnight + (3 - daysFromMonday) * DAY_MS);
  const isoYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * DAY_MS));
  return { isoYear, week };
}
