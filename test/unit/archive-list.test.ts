import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listArchiveEntries, type ArchiveEntryInfo } from '../../src/archive/list-archive-entries';
import type { Compression } from '../../src/vocabulary/volume-options';
import { makeTempDir } from '../helpers/temp-dir';
import { archiveToFile, buildVolume } from './archive-fixtures';

const COMPRESSIONS: Compression[] = ['gzip', 'zstd', 'none'];

describe('listArchiveEntries', () => {
  for (const compression of COMPRESSIONS) {
    it(`reads back every entry of an archive (${compression})`, async () => {
      const dir = await makeTempDir(`archive-list-${compression}`);
      const source = join(dir, 'volume');
      await mkdir(source);
      await buildVolume(source);
      const archive = join(dir, 'volume.archive');
      const created = await archiveToFile(source, archive, compression);
      const entries: ArchiveEntryInfo[] = [];
      const listing = await listArchiveEntries(createReadStream(archive), compression, (entry) => entries.push(entry));
      assert.equal(listing.fileCount, created.fileCount);
      assert.equal(listing.entryCount, entries.length);
      const byPath = new Map(entries.map((entry) => [entry.path, entry]));
      assert.equal(byPath.get('./')?.type, 'Directory');
      assert.equal(byPath.get('secret.key')?.mode, 0o600);
      assert.equal(byPath.get('link-to-hello')?.linkpath, 'hello.txt');
      assert.equal(byPath.get('nested/hard-link')?.type, 'Link');
      assert.equal(byPath.get('nested/deeper/deepest/big.txt')?.size, 1_300_000);
      assert.ok([...byPath.keys()].some((path) => path.length > 200), 'the pax long path is read back whole');
    });

    it(`rejects a truncated archive (${compression})`, async () => {
      const dir = await makeTempDir(`archive-truncated-${compression}`);
      const source = join(dir, 'volume');
      await mkdir(source);
      await buildVolume(source);
      const archive = join(dir, 'volume.archive');
      await archiveToFile(source, archive, compression);
      const whole = await readFile(archive);
      await writeFile(archive, whole.subarray(0, Math.floor(whole.length / 2)));
      await assert.rejects(listArchiveEntries(createReadStream(archive), compression));
    });
  }
});
