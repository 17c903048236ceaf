import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { PooledFileWriter } from '../../src/archive/pooled-file-writer';
import { makeTempDir } from '../helpers/temp-dir';

describe('PooledFileWriter', () => {
  it('writes every byte in order while reusing its few buffers', async () => {
    const dir = await makeTempDir('pooled-writer');
    const path = join(dir, 'out');
    // Chunks smaller and larger than a buffer, and one of exactly a buffer, so copies straddle buffers.
    const sizes = [1, 4095, 4096, 10_000, 65_536, 3, 50_000, 4096, 123_457];
    const chunks = Array.from({ length: 60 }, (_, index) => randomBytes(sizes[index % sizes.length]));
    const file = createWriteStream(path);
    await pipeline(Readable.from(chunks), new PooledFileWriter(file, { bufferBytes: 4096, poolSize: 2 }));
    assert.ok(file.closed || file.writableFinished);
    assert.deepEqual(await readFile(path), Buffer.concat(chunks));
  });

  it("fails with the file's error and destroys the file", async () => {
    const file = createWriteStream('/dev/full');
    await assert.rejects(pipeline(Readable.from([randomBytes(100_000)]), new PooledFileWriter(file, { bufferBytes: 8192 })), { code: 'ENOSPC' });
    assert.ok(file.destroyed);
  });
});
