import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ChainIndexes } from '../../src/runs/backup/chain-indexes';
import { makeTempDir } from '../helpers/temp-dir';

describe('the index of a chain', () => {
  it('is the newest committed archive\'s; a pending one is never used, and a cut-short one is none', async () => {
    const dir = join(await makeTempDir('chain-indexes'), 'chain');
    const indexes = new ChainIndexes(dir);
    assert.equal(await indexes.indexed(), undefined, 'nothing yet');
    await writeFile(await indexes.pending(), '"D","."\n"E"\n');
    assert.equal(await indexes.indexed(), undefined, 'a pending index describes no complete archive');
    await indexes.commit('v-20260101T000000Z.tar.gz');
    assert.equal(await indexes.indexed(), 'v-20260101T000000Z.tar.gz');
    assert.equal(indexes.of('v-20260101T000000Z.tar.gz'), join(dir, 'v-20260101T000000Z.tar.gz.index'));

    await writeFile(await indexes.pending(), '"D","."\n"E"\n');
    await indexes.commit('v-20260102T000000Z.tar.gz');
    assert.deepEqual(await readdir(dir), ['v-20260102T000000Z.tar.gz.index'], 'older indexes go');

    await writeFile(join(dir, 'v-20260102T000000Z.tar.gz.index'), '"D","."\n["a","File"');
    assert.equal(await indexes.indexed(), undefined, 'an index without its end mark was cut short');
  });
});
