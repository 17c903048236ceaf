import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planArchiveKind } from '../../src/runs/backup/plan-archive-kind';
import { selectPrunable, type DatedArchive } from '../../src/runs/retention/select-prunable';
import type { StoredArchive } from '../../src/targets/target';
import { checkChain } from '../../src/vocabulary/archive-chain';
import type { RetentionPolicy } from '../../src/vocabulary/retention-policy';
import type { FullEvery } from '../../src/vocabulary/volume-options';
import { DAY_MS, storedArchive } from './chain-fixtures';

const START = new Date('2026-01-01T03:00:00Z');

const POLICIES: Record<string, RetentionPolicy> = {
  'keep-all': { kind: 'keep-all' },
  'keep-last 5': { kind: 'keep-last', count: 5 },
  'max-age 10d': { kind: 'max-age', maxAgeMs: 10 * DAY_MS },
  'daily=7,weekly=4,monthly=6': { kind: 'calendar', buckets: { daily: 7, weekly: 4, monthly: 6 } },
  'monthly=3': { kind: 'calendar', buckets: { monthly: 3 } },
};

const dated = (archives: readonly StoredArchive[]): DatedArchive[] =>
  archives.map(({ name, manifest }) => ({ name, createdAt: new Date(manifest.created), base: manifest.base }));

/** What the policy keeps when every archive stands alone (the answer before chains). */
function keptAlone(archives: readonly StoredArchive[], policy: RetentionPolicy, now: Date): Set<string> {
  const undated = dated(archives).map(({ name, createdAt }) => ({ name, createdAt }));
  const pruned = new Set(selectPrunable(undated, policy, now));
  return new Set(archives.map((archive) => archive.name).filter((name) => !pruned.has(name)));
}

/**
 * A year of daily runs, each planned by planArchiveKind on what retention left and pruned after it,
 * removing one archive at a time the way the run does. Returns the kinds the runs were, in order, and
 * how many archives are left at the end.
 */
function simulateYear(fullEvery: FullEvery, policy: RetentionPolicy, label: string): { kinds: Array<'full' | 'incremental'>; remaining: number } {
  let archives: StoredArchive[] = [];
  const kinds: Array<'full' | 'incremental'> = [];
  for (let day = 0; day < 366; day++) {
    const now = new Date(START.getTime() + day * DAY_MS);
    const plan = planArchiveKind({ archives, fullEvery, now, indexedArchive: archives[0]?.name });
    kinds.push(plan.kind);
    archives = [storedArchive('db', now, plan.kind === 'incremental' ? plan.chain : []), ...archives];

    const alone = keptAlone(archives, policy, now);
    const pruned = selectPrunable(dated(archives), policy, now);
    for (const name of pruned) {
      archives = archives.filter((archive) => archive.name !== name);
      // Even a prune stopped right here leaves no remaining archive without a link.
      const orphan = archives.find((archive) => claimsLink(archive, name));
      assert.equal(orphan, undefined, `${label}, day ${day}: removing ${name} broke ${orphan?.name}`);
    }
    // What was whole yesterday and lost nothing is whole today: only the new archive and a pruned day need checking.
    for (const archive of pruned.length > 0 ? archives : archives.slice(0, 1)) {
      assert.ok('links' in checkChain(archive, archives), `${label}, day ${day}: the chain of ${archive.name} is not whole`);
    }
    const kept = new Set(archives.map((archive) => archive.name));
    for (const name of alone) assert.ok(kept.has(name), `${label}, day ${day}: the policy's point ${name} was pruned`);
    // Nothing is kept beyond the policy's points and the links they need.
    for (const name of kept) {
      const needed = alone.has(name) || archives.some((archive) => alone.has(archive.name) && claimsLink(archive, name));
      assert.ok(needed, `${label}, day ${day}: ${name} is kept for no point`);
    }
    assert.equal(archives[0].manifest.created, now.toISOString(), `${label}, day ${day}: the newest archive stays`);
  }
  return { kinds, remaining: archives.length };
}

function claimsLink(archive: StoredArchive, name: string): boolean {
  return (archive.manifest.chain ?? []).includes(name);
}

describe('retention over chains', () => {
  for (const [label, policy] of Object.entries(POLICIES)) {
    it(`${label}: a year of daily runs with backup-full-every=7 never loses a link`, () => {
      const { kinds, remaining } = simulateYear({ count: 7 }, policy, label);
      assert.ok(policy.kind === 'keep-all' ? remaining === 366 : remaining < 40, `${remaining} archives left`);
      // Retention never broke the newest chain: every 7th run is full, and only those.
      kinds.forEach((kind, day) => assert.equal(kind, day % 7 === 0 ? 'full' : 'incremental', `day ${day}`));
    });

    it(`${label}: a year of daily runs with backup-full-every=10d never loses a link`, () => {
      const { kinds, remaining } = simulateYear({ maxAgeMs: 10 * DAY_MS }, policy, label);
      assert.ok(policy.kind === 'keep-all' ? remaining === 366 : remaining < 40, `${remaining} archives left`);
      kinds.forEach((kind, day) => assert.equal(kind, day % 10 === 0 ? 'full' : 'incremental', `day ${day}`));
    });
  }

  it('keeps the whole chain of a point the policy keeps, and no more', () => {
    // Days 0-6 one chain, days 7-9 the next; keep-last 2 keeps days 8 and 9, and day 7 as their base.
    const archives: DatedArchive[] = [];
    for (let day = 0; day < 10; day++) {
      const createdAt = new Date(START.getTime() + day * DAY_MS);
      archives.push({ name: `d${day}`, createdAt, ...(day % 7 === 0 ? {} : { base: `d${day - 1}` }) });
    }
    const now = new Date(START.getTime() + 10 * DAY_MS);
    assert.deepEqual(selectPrunable(archives, { kind: 'keep-last', count: 2 }, now), ['d6', 'd5', 'd4', 'd3', 'd2', 'd1', 'd0']);
    assert.deepEqual(selectPrunable(archives, { kind: 'keep-last', count: 5 }, now), []);
    assert.deepEqual(selectPrunable(archives, { kind: 'max-age', maxAgeMs: 2.5 * DAY_MS }, now), ['d6', 'd5', 'd4', 'd3', 'd2', 'd1', 'd0']);
  });

  it('removes dependents before their base, whatever their dates say, and archives without chains oldest first', () => {
    const at = (day: number) => new Date(START.getTime() + day * DAY_MS);
    const archives: DatedArchive[] = [
      { name: 'a', createdAt: at(0) },
      { name: 'b', createdAt: at(1), base: 'a' },
      { name: 'lone', createdAt: at(2) },
      { name: 'skewed', createdAt: at(0.5), base: 'b' },
      { name: 'circle-1', createdAt: at(3), base: 'circle-2' },
      { name: 'circle-2', createdAt: at(4), base: 'circle-1' },
      { name: 'newest', createdAt: at(9) },
    ];
    assert.deepEqual(selectPrunable(archives, { kind: 'keep-last', count: 1 }, at(10)), ['skewed', 'b', 'a', 'lone', 'circle-2', 'circle-1']);
  });

  it('keeps the base of an archive whose date cannot be read', () => {
    const archives: DatedArchive[] = [
      { name: 'full', createdAt: new Date(START.getTime()) },
      { name: 'undated', createdAt: new Date('nonsense'), base: 'full' },
      { name: 'newest', createdAt: new Date(START.getTime() + DAY_MS) },
    ];
    assert.deepEqual(selectPrunable(archives, { kind: 'keep-last', count: 1 }, new Date(START.getTime() + 2 * DAY_MS)), []);
  });
});
