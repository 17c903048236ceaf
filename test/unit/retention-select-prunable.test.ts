import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calendarPeriod, isoWeek } from '../../src/runs/retention/calendar-period';
import { CALENDAR_BUCKETS, type CalendarBucket, type RetentionPolicy } from '../../src/vocabulary/retention-policy';
import { selectPrunable, type DatedArchive } from '../../src/runs/retention/select-prunable';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function archive(iso: string): DatedArchive {
  return { name: `v-${iso}`, createdAt: new Date(iso) };
}

/** One archive every `stepMs` from `from`, `count` of them, oldest first. */
function series(from: string, stepMs: number, count: number): DatedArchive[] {
  const start = new Date(from).getTime();
  return Array.from({ length: count }, (_, i) => archive(new Date(start + i * stepMs).toISOString()));
}

function kept(archives: DatedArchive[], policy: RetentionPolicy, now: Date): string[] {
  const pruned = new Set(selectPrunable(archives, policy, now));
  return archives.map((a) => a.name).filter((name) => !pruned.has(name));
}

/** A tiny seeded generator, so a failing series can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * The calendar rule written the other way round, as an oracle: group by period, order the periods by
 * their newest archive, keep the newest archive of the first N.
 */
function calendarOracle(archives: DatedArchive[], buckets: Partial<Record<CalendarBucket, number>>): Set<string> {
  const keep = new Set<string>();
  for (const bucket of CALENDAR_BUCKETS) {
    const newestOfPeriod = new Map<string, DatedArchive>();
    for (const a of archives) {
      const period = calendarPeriod(bucket, a.createdAt);
      const best = newestOfPeriod.get(period);
      const newer = !best || a.createdAt > best.createdAt || (+a.createdAt === +best.createdAt && a.name > best.name);
      if (newer) newestOfPeriod.set(period, a);
    }
    const periods = [...newestOfPeriod.values()].sort((x, y) => +y.createdAt - +x.createdAt);
    for (const a of periods.slice(0, buckets[bucket] ?? 0)) keep.add(a.name);
  }
  return keep;
}

describe('selectPrunable', () => {
  const now = new Date('2026-03-15T12:00:00Z');

  it('prunes nothing from an empty list, whatever the policy', () => {
    for (const policy of [
      { kind: 'keep-all' },
      { kind: 'keep-last', count: 3 },
      { kind: 'max-age', maxAgeMs: DAY },
      { kind: 'calendar', buckets: { daily: 7 } },
    ] as RetentionPolicy[]) {
      assert.deepEqual(selectPrunable([], policy, now), []);
    }
  });

  it('keep-all prunes nothing', () => {
    assert.deepEqual(selectPrunable(series('2020-01-01T00:00:00Z', DAY, 500), { kind: 'keep-all' }, now), []);
  });

  it('keep-last keeps the newest N and returns the rest oldest first', () => {
    const archives = series('2026-03-01T00:00:00Z', DAY, 10);
    const shuffled = [archives[4], archives[9], archives[0], archives[7], ...archives.slice(1, 4), archives[5], archives[6], archives[8]];
    assert.deepEqual(
      selectPrunable(shuffled, { kind: 'keep-last', count: 3 }, now),
      archives.slice(0, 7).map((a) => a.name),
    );
  });

  it('keep-last larger than the list prunes nothing', () => {
    assert.deepEqual(selectPrunable(series('2026-03-01T00:00:00Z', DAY, 5), { kind: 'keep-last', count: 50 }, now), []);
  });

  it('max-age prunes what is older than now minus the age, the boundary kept', () => {
    const archives = [archive('2026-03-08T11:59:59Z'), archive('2026-03-08T12:00:00Z'), archive('2026-03-14T00:00:00Z')];
    assert.deepEqual(selectPrunable(archives, { kind: 'max-age', maxAgeMs: 7 * DAY }, now), ['v-2026-03-08T11:59:59Z']);
  });

  it('never prunes the newest archive, even when every policy would', () => {
    const archives = series('2020-01-01T00:00:00Z', DAY, 3);
    assert.deepEqual(kept(archives, { kind: 'max-age', maxAgeMs: HOUR }, now), ['v-2020-01-03T00:00:00.000Z']);
    assert.deepEqual(kept(archives, { kind: 'keep-last', count: 0 }, now), ['v-2020-01-03T00:00:00.000Z']);
    assert.deepEqual(kept(archives, { kind: 'calendar', buckets: {} }, now), ['v-2020-01-03T00:00:00.000Z']);
  });

  it('never prunes an archive whose date cannot be read', () => {
    const archives = [...series('2020-01-01T00:00:00Z', DAY, 3), { name: 'broken', createdAt: new Date('nonsense') }];
    assert.deepEqual(selectPrunable(archives, { kind: 'keep-last', count: 1 }, now), [
      'v-2020-01-01T00:00:00.000Z',
      'v-2020-01-02T00:00:00.000Z',
    ]);
  });

  it('daily keeps the newest archive of each of the last N days that have archives', () => {
    // Every 6 hours for 10 days, with day 5 missing altogether.
    const archives = series('2026-03-01T00:00:00Z', 6 * HOUR, 40).filter((a) => !a.name.includes('2026-03-05'));
    assert.deepEqual(kept(archives, { kind: 'calendar', buckets: { daily: 7 } }, now), [
      'v-2026-03-03T18:00:00.000Z',
      'v-2026-03-04T18:00:00.000Z',
      'v-2026-03-06T18:00:00.000Z',
      'v-2026-03-07T18:00:00.000Z',
      'v-2026-03-08T18:00:00.000Z',
      'v-2026-03-09T18:00:00.000Z',
      'v-2026-03-10T18:00:00.000Z',
    ]);
  });

  it('keeps one per bucket when several archives share it, ties broken by name', () => {
    const archives = [
      archive('2026-03-10T01:00:00Z'),
      archive('2026-03-10T23:00:00Z'),
      { name: 'v-b', createdAt: new Date('2026-03-11T05:00:00Z') },
      { name: 'v-a', createdAt: new Date('2026-03-11T05:00:00Z') },
    ];
    assert.deepEqual(kept(archives, { kind: 'calendar', buckets: { daily: 5 } }, now), ['v-2026-03-10T23:00:00Z', 'v-b']);
  });

  it('hourly and the other buckets count UTC hours, so no daylight saving switch shifts them', () => {
    // 2026-03-29 is the EU switch to summer time: in UTC nothing special happens at 01:00.
    const archives = series('2026-03-29T00:00:00Z', 20 * 60_000, 12);
    assert.deepEqual(kept(archives, { kind: 'calendar', buckets: { hourly: 4 } }, now), [
      'v-2026-03-29T00:40:00.000Z',
      'v-2026-03-29T01:40:00.000Z',
      'v-2026-03-29T02:40:00.000Z',
      'v-2026-03-29T03:40:00.000Z',
    ]);
  });

  it('weekly uses ISO weeks across the turn of the year', () => {
    // 2020-12-31 (Thursday) to 2021-01-03 (Sunday) are all ISO week 53 of 2020; 2021-01-04 starts week 1.
    const archives = ['2020-12-27', '2020-12-28', '2020-12-31', '2021-01-03', '2021-01-04', '2021-01-10'].map((d) => archive(`${d}T12:00:00Z`));
    assert.deepEqual(kept(archives, { kind: 'calendar', buckets: { weekly: 3 } }, now), [
      'v-2020-12-27T12:00:00Z',
      'v-2021-01-03T12:00:00Z',
      'v-2021-01-10T12:00:00Z',
    ]);
    assert.deepEqual(isoWeek(new Date('2024-12-30T00:00:00Z')), { isoYear: 2025, week: 1 });
    assert.deepEqual(isoWeek(new Date('2027-01-01T00:00:00Z')), { isoYear: 2026, week: 53 });
  });

  it('monthly and yearly cross year ends and a leap day', () => {
    const archives = ['2023-11-30', '2023-12-31', '2024-01-01', '2024-02-28', '2024-02-29', '2024-03-01', '2025-01-01'].map((d) =>
      archive(`${d}T00:00:00Z`),
    );
    assert.deepEqual(kept(archives, { kind: 'calendar', buckets: { monthly: 4 } }, now), [
      'v-2024-01-01T00:00:00Z',
      'v-2024-02-29T00:00:00Z',
      'v-2024-03-01T00:00:00Z',
      'v-2025-01-01T00:00:00Z',
    ]);
    assert.deepEqual(kept(archives, { kind: 'calendar', buckets: { yearly: 5 } }, now), [
      'v-2023-12-31T00:00:00Z',
      'v-2024-03-01T00:00:00Z',
      'v-2025-01-01T00:00:00Z',
    ]);
    assert.deepEqual(kept(archives, { kind: 'calendar', buckets: { daily: 3 } }, now), [
      'v-2024-02-29T00:00:00Z',
      'v-2024-03-01T00:00:00Z',
      'v-2025-01-01T00:00:00Z',
    ]);
  });

  it('keeps the union of all bucket kinds', () => {
    const archives = series('2025-10-01T00:00:00Z', DAY, 120);
    const result = kept(archives, { kind: 'calendar', buckets: { daily: 3, weekly: 2, monthly: 3 } }, now);
    assert.deepEqual(result, [
      'v-2025-11-30T00:00:00.000Z', // monthly: November
      'v-2025-12-31T00:00:00.000Z', // monthly: December
      'v-2026-01-25T00:00:00.000Z', // weekly: the Sunday that ends ISO week 4
      'v-2026-01-26T00:00:00.000Z', // daily
      'v-2026-01-27T00:00:00.000Z', // daily
      'v-2026-01-28T00:00:00.000Z', // daily, weekly, monthly: the newest
    ]);
  });

  it('agrees with the calendar rule over many generated series', () => {
    const next = random(20260315);
    for (let round = 0; round < 200; round++) {
      // Archives at irregular times over up to three years from late 2023, across a leap year.
      const start = Date.parse('2023-11-01T00:00:00Z');
      const archives = Array.from({ length: 1 + Math.floor(next() * 150) }, (_, i) => ({
        name: `v-${round}-${i}`,
        createdAt: new Date(start + Math.floor(next() * 3 * 365 * DAY)),
      }));
      const buckets: Partial<Record<CalendarBucket, number>> = {};
      for (const bucket of CALENDAR_BUCKETS) if (next() < 0.6) buckets[bucket] = 1 + Math.floor(next() * 12);
      const expected = calendarOracle(archives, buckets);
      const newest = [...archives].sort((a, b) => +b.createdAt - +a.createdAt || (a.name < b.name ? 1 : -1))[0];
      expected.add(newest.name);

      const pruned = selectPrunable(archives, { kind: 'calendar', buckets }, new Date('2027-01-01T00:00:00Z'));
      const actual = new Set(archives.map((a) => a.name).filter((name) => !pruned.includes(name)));
      assert.deepEqual(actual, expected, `round ${round}`);
      assert.equal(pruned.length + actual.size, archives.length);
    }
  });
});
