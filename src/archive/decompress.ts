import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Compression } from '../vocabulary/volume-options';
import { spawnZstd } from './zstd-process';

/**
 * zlib's output chunk. The default (16 KiB) means a trip to the threadpool and a callback per 16 KiB of
 * tar stream: at 256 KiB a restore's gunzip costs ~0.5 s less CPU for 700 MB (BENCHMARKS.md).
 */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

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
    return [pipeline([...head, stdin], { signal }), pipeline(zstd.stdout as Readable, sink, { signal }), zstd.exited];
  }
  if (compression === 'gzip') return [pipeline([...head, createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }), sink], { signal })];
  return [pipeline([...head, sink], { signal })];
}
