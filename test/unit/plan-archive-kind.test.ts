import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainManifestFields, planArchiveKind, type ArchiveKindInput } from '../../src/runs/backup/plan-archive-kind';
import { chainOf, DAY_MS, legacyArchive, storedArchive } from './chain-fixtures';

const START = new Date('2026-03-01T03:00:00Z');
const afterDays = (days: number) => new Date(START.getTime() + days * DAY_MS);

function plan(input: Partial<ArchiveKindInput> & Pick<ArchiveKindInput, 'archives'>) {
  return planArchiveKind({ fullEvery: { count: 7 }, now: afterDays(30), indexedArchive: input.archives[0]?.name, ...input });
}

describe('planArchiveKind', () => {
  it('makes every archive full while backup-full-every is 1, whatever the archives', () => {
    const archives = chainOf('db', START, 2);
    assert.deepEqual(plan({ archives, fullEvery: { count: 1 } }), { kind: 'full', reason: 'backup-full-every is 1' });
  });

  it('bases an incremental on the newest archive, giving its chain and its bytes', () => {
    const archives = chainOf('db', START, 2);
    const [newest, first, full] = archives;
    assert.deepEqual(plan({ archives }), { kind: 'incremental', base: newest.name, chain: [full.name, first.name, newest.name], baseChainBytes: 300 });
    assert.deepEqual(plan({ archives: [full] }), { kind: 'incremental', base: full.name, chain: [full.name], baseChainBytes: 100 });
  });

  it('bases on an archive from before chains as on a full one', () => {
    const legacy = legacyArchive('db', START);
    assert.deepEqual(plan({ archives: [legacy] }), { kind: 'incremental', base: legacy.name, chain: [legacy.name], baseChainBytes: 100 });
  });

  it('is full when there is nothing to base on', () => {
    assert.match(reasonOf(plan({ archives: [] })), /no complete archive/);
  });

  it('is full once the chain holds N archives: one full, then N-1 incrementals', () => {
    assert.equal(plan({ archives: chainOf('db', START, 5) }).kind, 'incremental');
    const archives = chainOf('db', START, 6);
    assert.match(reasonOf(plan({ archives })), new RegExp(`the chain of ${archives[0].name} holds 7 archives \\(backup-full-every=7\\)`));
  });

  it('is full once the chain\'s full archive is as old as the duration', () => {
    const archives = chainOf('db', START, 5);
    const weekly = { maxAgeMs: 7 * DAY_MS };
    assert.equal(plan({ archives, fullEvery: weekly, now: new Date(afterDays(7).getTime() - 1) }).kind, 'incremental');
    assert.match(reasonOf(plan({ archives, fullEvery: weekly, now: afterDays(7) })), /full archive db-20260301T030000Z.tar.gz .* is as old as backup-full-every/);
    // A chain longer than any count is fine while the full archive is young.
    assert.equal(plan({ archives: chainOf('db', START, 40), fullEvery: { maxAgeMs: 60 * DAY_MS }, now: afterDays(41) }).kind, 'incremental');
    const undated = archives.map((archive, index) =>
      index === archives.length - 1 ? { ...archive, manifest: { ...archive.manifest, created: 'never' } } : archive,
    );
    assert.equal(plan({ archives: undated, fullEvery: weekly, now: afterDays(6) }).kind, 'full');
  });

  it('is full when the newest chain misses a link, and bases on nothing but the newest complete archive', () => {
    const archives = chainOf('db', START, 3);
    const withoutFirst = archives.filter((_, index) => index !== 2);
    assert.match(reasonOf(plan({ archives: withoutFirst })), new RegExp(`chain is broken: archive ${archives[0].name} needs ${archives[2].name}, which is missing`));
    // A run killed before its manifest leaves nothing listed: the next one bases on the archive before it.
    assert.equal((plan({ archives: archives.slice(1) }) as { base: string }).base, archives[1].name);
  });

  it('is full when the plugin holds no index of the newest archive', () => {
    const archives = chainOf('db', START, 2);
    assert.match(reasonOf(plan({ archives, indexedArchive: undefined })), /no index of the newest archive/);
    assert.match(reasonOf(plan({ archives, indexedArchive: archives[1].name })), /no index of the newest archive/);
    const failedRun = storedArchive('db', afterDays(3)).name;
    assert.equal(plan({ archives, indexedArchive: failedRun }).kind, 'full');
  });
});

describe('chainManifestFields', () => {
  it('gives a full archive a chain of itself, and an incremental its base and whole chain', () => {
    assert.deepEqual(chainManifestFields({ kind: 'full', reason: '' }, 'b'), { kind: 'full', chain: ['b'] });
    assert.deepEqual(chainManifestFields({ kind: 'incremental', base: 'b', chain: ['a', 'b'], baseChainBytes: 2 }, 'c'), {
      kind: 'incremental',
      base: 'b',
      chain: ['a', 'b', 'c'],
    });
  });
});

function reasonOf(planned: ReturnType<typeof planArchiveKind>): string {
  assert.equal(planned.kind, 'full');
  return (planned as { reason: string }).reason;
}
