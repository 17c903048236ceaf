import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compressionOfArchive, formatArchiveName, parseArchiveName } from '../../src/vocabulary/archive-name';

describe('archive names', () => {
  const at = new Date('2026-11-22T03:04:05.678Z');

  it('follow VOLUME-YYYYMMDDTHHMMSSZ with the compression and encryption suffix', () => {
    assert.equal(formatArchiveName('db-data', at, 'gzip', 'none'), 'db-data-20261122T030405Z.tar.gz');
    assert.equal(formatArchiveName('v', at, 'zstd', 'none'), 'v-20261122T030405Z.tar.zst');
    assert.equal(formatArchiveName('v', at, 'none', 'gpg'), 'v-20261122T030405Z.tar.gpg');
  });

  it('parse back to volume and time, and refuse other names', () => {
    assert.deepEqual(parseArchiveName('db-data-20261122T030405Z.tar.gz'), {
      volume: 'db-data',
      createdAt: new Date('2026-11-22T03:04:05Z'),
    });
    assert.equal(parseArchiveName('db-data-20261122T030405Z.tar.gz.json'), undefined);
    assert.equal(parseArchiveName('.partial-v-20261122T030405Z.tar.gz')?.volume, '.partial-v');
    assert.equal(parseArchiveName('notes.txt'), undefined);
    assert.equal(parseArchiveName('v-20261399T030405Z.tar'), undefined);
  });

  it('tell their compression', () => {
    assert.equal(compressionOfArchive('v-20261122T030405Z.tar.gz'), 'gzip');
    assert.equal(compressionOfArchive('v-20261122T030405Z.tar.zst.age'), 'zstd');
    assert.equal(compressionOfArchive('v-20261122T030405Z.tar'), 'none');
  });
});
