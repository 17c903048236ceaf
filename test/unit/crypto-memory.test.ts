import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { createArchive } from '../../src/archive/create-archive';
import { encryptionStage, decryptionStage } from '../../src/crypto/archive-cipher';
import { loadArchiveKeys } from '../../src/settings/archive-keys';
import type { Encryption } from '../../src/vocabulary/volume-options';
import { makeTempDir } from '../helpers/temp-dir';
import { ageKeyPair, GPG_PASSPHRASE } from './crypto-fixtures';

/** Far more than the memory the stages may take: a stage that buffers the archive shows at once. */
const INPUT_BYTES = 256 * 1024 * 1024;
const MAX_GROWTH_BYTES = 160 * 1024 * 1024;

/** Runs `work` while sampling RSS; returns the peak growth over the RSS before it. */
async function peakRssGrowth(work: () => Promise<unknown>): Promise<number> {
  global.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - baseline;
}

/** Counts bytes and drops them. */
function sink(): Writable & { bytes: number } {
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writable.bytes += chunk.length;
      callback();
    },
  }) as Writable & { bytes: number };
  writable.bytes = 0;
  return writable;
}

describe('encryption streams: memory stays flat', { timeout: 600_000 }, () => {
  for (const encryption of ['gpg', 'age'] as Encryption[]) {
    it(`${encryption}: a ${INPUT_BYTES / 1024 / 1024} MiB volume is encrypted and decrypted in a bounded RSS`, async (t) => {
      const dir = await makeTempDir(`crypto-memory-${encryption}`);
      const key = await ageKeyPair(dir);
      const keys = loadArchiveKeys({ GPG_PASSPHRASE, AGE_RECIPIENTS: key.recipient, AGE_IDENTITY: key.identity });
      const volume = join(dir, 'volume');
      await mkdir(volume);
      // Sparse: costs no disk, and with compression none every byte goes through the cipher.
      await writeFile(join(volume, 'big'), '');
      await truncate(join(volume, 'big'), INPUT_BYTES);
      const archive = join(dir, 'archive');

      const encryptGrowth = await peakRssGrowth(() =>
        createArchive({ sourceDir: volume, compression: 'none', exclude: [], output: { kind: 'local-file', stream: createWriteStream(archive) }, encrypt: encryptionStage(encryption, keys) }),
      );
      assert.ok((await stat(archive)).size > INPUT_BYTES);
      assert.ok(encryptGrowth < MAX_GROWTH_BYTES, `encrypting grew RSS by ${Math.round(encryptGrowth / 1024 / 1024)} MiB`);

      const out = sink();
      const decryptGrowth = await peakRssGrowth(() => pipeline(createReadStream(archive), decryptionStage(encryption, keys) as Writable, out));
      assert.ok(out.bytes > INPUT_BYTES, 'the tar came back whole');
      t.diagnostic(`RSS growth: encrypt ${Math.round(encryptGrowth / 1024 / 1024)} MiB, decrypt ${Math.round(decryptGrowth / 1024 / 1024)} MiB`);
      assert.ok(decryptGrowth < MAX_GROWTH_BYTES, `decrypting grew RSS by ${Math.round(decryptGrowth / 1024 / 1024)} MiB`);
    });
  }
});
