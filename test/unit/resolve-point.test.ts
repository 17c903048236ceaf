import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { chainToApply, resolvePoint } from '../../src/runs/restore/resolve-archive';
import type { StoredArchive } from '../../src/targets/target';
import type { ArchiveSource } from '../../src/targets/target-reader';
import { chainOf, legacyArchive } from './chain-fixtures';

const START = new Date('2026-03-01T03:00:00Z');
const HINT = 'restore an earlier point, or run a backup (the next run starts a new full archive)';

function source(listing: StoredArchive[]): ArchiveSource {
  return { name: 'local', list: async () => listing, open: async () => Readable.from([]) };
}

describe('resolvePoint', () => {
  it('gives a full archive, or one from before chains, alone', async () => {
    const [, , full] = chainOf('db', START, 2);
    assert.deepEqual(await resolvePoint(source([full]), { volume: 'db', archive: 'latest' }), [full]);
    const legacy = legacyArchive('db', START);
    assert.deepEqual(await resolvePoint(source([legacy]), { volume: 'db', archive: legacy.name }), [legacy]);
  });

  it('gives the full archive first, then each incremental up to the point', async () => {
    const listing = chainOf('db', START, 3);
    const [newest, second, first, full] = listing;
    assert.deepEqual(await resolvePoint(source(listing), { volume: 'db', archive: 'latest' }), [full, first, second, newest]);
    assert.deepEqual(await resolvePoint(source(listing), { volume: 'db', archive: second.name }), [full, first, second]);
  });

  it('still says when the named archive is not there', async () => {
    await assert.rejects(resolvePoint(source([]), { volume: 'db', archive: 'latest' }), /volume db has no complete archive in target local/);
    await assert.rejects(resolvePoint(source(chainOf('db', START, 1)), { volume: 'db', archive: 'db-20200101T000000Z.tar.gz' }), /no complete archive db-20200101T000000Z.tar.gz in target local/);
  });

  it('names a missing link and says what to do', async () => {
    const listing = chainOf('db', START, 3);
    const [newest, second, first] = listing;
    const gapped = listing.filter((archive) => archive !== first);
    await assert.rejects(
      resolvePoint(source(gapped), { volume: 'db', archive: 'latest' }),
      (error: Error) => error.message === `archive ${newest.name} needs ${first.name}, which is missing from target local: ${HINT}`,
    );
    await assert.rejects(resolvePoint(source(gapped), { volume: 'db', archive: second.name }), new RegExp(`archive ${second.name} needs ${first.name}`));
  });

  it('names a link whose manifest disagrees: another volume, or a chain of its own that is not the start of this one', () => {
    const listing = chainOf('db', START, 2);
    const [newest, first, full] = listing;
    const foreign = { ...first, manifest: { ...first.manifest, volume: 'web' } };
    assert.throws(() => chainToApply(newest, [newest, foreign, full], 'local'), new RegExp(`needs ${first.name}, whose manifest is of volume web: ${HINT.replace(/[()]/g, '\\$&')}`));
    const replaced = { ...full, manifest: { ...full.manifest, kind: 'incremental' as const, base: 'x', chain: ['x', full.name] } };
    assert.throws(() => chainToApply(newest, [newest, first, replaced], 's3'), new RegExp(`needs ${full.name}, whose manifest's chain \\(x, ${full.name}\\) is not the start`));
  });
});
