import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../vocabulary/volume-options';
import { spawnCodec } from './codec-process';

/**
 * Streams an archive's bytes, decrypted when `decrypt` is given (crypto/archive-cipher.ts), then
 * decompressed, into sink: gzip through unpigz and zstd through zstd (codec-process.ts says why not in
 * this process), none as is. Returns every step of the pipeline, for settleAll: aborting `signal` stops
 * them all (the decompressor is killed).
 */
export function decompressInto(
  input: Readable,
  compression: Compression,
  sink: Writable,
  signal: AbortSignal,
  decrypt?: Duplex,
): Array<Promise<unknown>> {
  const head = [input, ...(decrypt ? [decrypt] : [])];
  if (compression === 'none') return [pipeline([...head, sink], { signal })];
  const program = spawnCodec({ codec: compression, direction: 'decompress', signal });
  const stdin = program.stdin as Writable;
  return [pipeline([...head, stdin], { signal }), pipeline(program.stdout as Readable, sink, { signal }), program.exited];
}
