import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkChain, claimedChain, describeBreak } from '../../src/vocabulary/archive-chain';
import { chainOf, legacyArchive, storedArchive } from './chain-fixtures';

const START = new Date('2026-03-01T03:00:00Z');

describe('checkChain', () => {
  it('gives a full archive, and one from before chains, as a chain of itself', () => {
    const full = storedArchive('db', START);
    const legacy = legacyArchive('db', START);
    assert.deepEqual(claimedChain(legacy), [legacy.name]);
    assert.deepEqual(checkChain(full, [full]), { links: [full] });
    assert.deepEqual(checkChain(legacy, []), { links: [legacy] });
  });

  it('gives the links of an incremental from the full archive up to it', () => {
    const listing = chainOf('db', START, 3);
    const [newest, second, first, full] = listing;
    assert.deepEqual(checkChain(newest, listing), { links: [full, first, second, newest] });
    assert.deepEqual(checkChain(first, listing), { links: [full, first] });
  });

  it('names the first missing link', () => {
    const listing = chainOf('db', START, 3);
    const [newest, , first, full] = listing;
    assert.deepEqual(checkChain(newest, listing.filter((archive) => archive !== first)), { broken: { why: 'missing', link: first.name } });
    assert.deepEqual(checkChain(newest, listing.slice(0, 3)), { broken: { why: 'missing', link: full.name } });
  });

  it('refuses a link of another volume, or one whose own chain is not the start of this one', () => {
    const listing = chainOf('db', START, 2);
    const [newest, first, full] = listing;
    const foreign = { ...full, manifest: { ...full.manifest, volume: 'web' } };
    assert.deepEqual(checkChain(newest, [newest, first, foreign]), { broken: { why: 'other-volume', link: full.name, volume: 'web' } });
    const otherChain = ['db-20250101T030000Z.tar.gz', first.name];
    const replaced = { ...first, manifest: { ...first.manifest, chain: otherChain } };
    assert.deepEqual(checkChain(newest, [newest, replaced, full]), { broken: { why: 'not-a-prefix', link: first.name, chain: otherChain } });
    const incrementalAsFull = { ...full, manifest: { ...full.manifest, kind: 'incremental' as const, base: 'x', chain: ['x', full.name] } };
    assert.equal((checkChain(newest, [newest, first, incrementalAsFull]) as { broken: { why: string } }).broken.why, 'not-a-prefix');
  });

  it('calls an incremental malformed when its chain does not end in it or its base is not the link before', () => {
    const [newest, first, full] = chainOf('db', START, 2);
    const listing = [newest, first, full];
    const malformed = (manifest: Partial<typeof newest.manifest>) =>
      checkChain({ ...newest, manifest: { ...newest.manifest, ...manifest } }, listing);
    const expected = { broken: { why: 'malformed', link: newest.name } };
    assert.deepEqual(malformed({ chain: undefined }), expected);
    assert.deepEqual(malformed({ chain: [full.name, first.name] }), expected);
    assert.deepEqual(malformed({ chain: [newest.name] }), expected);
    assert.deepEqual(malformed({ base: full.name }), expected);
    assert.deepEqual(malformed({ chain: [full.name, newest.name, newest.name] }), expected);
    assert.deepEqual(malformed({ kind: 'full', chain: [newest.name], base: first.name }), expected);
  });

  it('says what is wrong, naming the link and, when known, the target', () => {
    assert.equal(describeBreak('b', { why: 'missing', link: 'a' }, 'local'), 'archive b needs a, which is missing from target local');
    assert.equal(describeBreak('b', { why: 'missing', link: 'a' }), 'archive b needs a, which is missing');
    assert.equal(describeBreak('b', { why: 'other-volume', link: 'a', volume: 'web' }), 'archive b needs a, whose manifest is of volume web');
    assert.equal(describeBreak('b', { why: 'not-a-prefix', link: 'a', chain: ['x', 'a'] }), "archive b needs a, whose manifest's chain (x, a) is not the start of b's");
    assert.match(describeBreak('b', { why: 'malformed', link: 'b' }), /^archive b is an incremental whose manifest names no chain/);
  });
});
