import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { StoredArchive, Target } from '../../src/targets/target';
import { TargetReader } from '../../src/targets/target-reader';
import { sampleManifest as manifest } from '../helpers/target-fixtures';

/** A target holding archives in memory, counting how often it is listed. */
function memoryTarget(name: string, archives: StoredArchive[]) {
  const counts = { list: 0 };
  const target = {
    name,
    list: async () => {
      counts.list++;
      return archives;
    },
    open: async (_volume: string, archive: string) => Readable.from([`${name}:${archive}`]),
  } as unknown as Target;
  return { target, counts };
}

async function text(stream: Readable): Promise<string> {
  let all = '';
  for await (const chunk of stream) all += String(chunk);
  return all;
}

describe('TargetReader', () => {
  it('reads each archive from the first target holding it, listing the targets once for a list and its opens', async () => {
    const older = { name: 'v-20260101T000000Z.tar.gz', manifest: manifest('v-20260101T000000Z.tar.gz', '2026-01-01T00:00:00.000Z') };
    const newer = { name: 'v-20260102T000000Z.tar.gz', manifest: manifest('v-20260102T000000Z.tar.gz', '2026-01-02T00:00:00.000Z') };
    const s3 = memoryTarget('s3', [newer]);
    const local = memoryTarget('local', [newer, older]);
    const reader = new TargetReader([s3.target, local.target]);
    const listed = await reader.list('v');
    assert.deepEqual(listed.map((archive) => `${archive.target}:${archive.name}`), [`s3:${newer.name}`, `local:${older.name}`]);
    for (const archive of listed) assert.equal(await text(await reader.open('v', archive.name)), `${archive.target}:${archive.name}`);
    assert.deepEqual([s3.counts.list, local.counts.list], [1, 1], 'open() used what list() found');

    // Without a list first, open() finds the holder itself.
    const fresh = new TargetReader([s3.target, local.target]);
    assert.equal(await text(await fresh.open('v', older.name)), `local:${older.name}`);
    await assert.rejects(fresh.open('v', 'v-20260103T000000Z.tar.gz'), /no complete archive v-20260103T000000Z.tar.gz in target s3,local/);
  });
});
