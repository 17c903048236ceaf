/** What `backup-retention` asks for, parsed. Selection lives in select-prunable.ts. */
export type CalendarBucket = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

export const CALENDAR_BUCKETS: readonly CalendarBucket[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

export type RetentionPolicy =
  | { kind: 'keep-all' }
  | { kind: 'max-age'; maxAgeMs: number }
  | { kind: 'keep-last'; count: number }
  | { kind: 'calendar'; buckets: Partial<Record<CalendarBucket, number>> };
