import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Compression } from '../volumes/volume-options';
import { spawnZstd } from './zstd-process';

/**
 * Streams an archive's bytes, decrypted when `decrypt` is given (crypto/archive-cipher.ts), then
 * decompressed, into sink: gzip in zlib (which reads concatenated members, what createArchive writes, as
 * one stream), zstd through the zstd binary, none as is. Returns every step of the pipeline, for
 * settleAll: aborting `signal` stops them all (zstd is killed).
 */
export function decompressInto(
  input: Readable,
  compression: Compression,
  sink: Writable,
  signal: AbortSignal,
  decrypt?: Duplex,
): Array<Promise<unknown>> {
  const head = [input, ...(decrypt ? [decrypt] : [])];
  if (compression === 'zstd') {
    const zstd = spawnZstd({ direction: 'decompress', signal });
    const stdin = zstd.stdin as Writable;
    return [pipeline([...head, stdin], { signal }), pipeline(zstd.stdout, sink, { signal }), zstd.exited];
  }
  if (compression === 'gzip') return [pipeline([...head, createGunzip(), sink], { signal })];
  return [pipeline([...head, sink], { signal })];
}
