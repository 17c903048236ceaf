import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through unchanged, counting them and hashing them (sha256) on the way to the target. Bytes
 * written to the target by other means (see create-archive.ts) are counted and hashed with observe().
 */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;

  /** onChunk is told the size of every chunk that goes through (to pace garbage collection). */
  constructor(private readonly onChunk?: (bytes: number) => void) {
    super();
  }

  get bytes(): number {
    return this.count;
  }

  /** Only meaningful once the stream has finished. */
  sha256(): string {
    return this.hash.copy().digest('hex');
  }

  /** Counts and hashes a chunk that reaches the target without going through this stream. */
  readonly observe = (chunk: Buffer): void => {
    this.hash.update(chunk);
    this.count += chunk.length;
    this.onChunk?.(chunk.length);
  };

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.observe(chunk);
    callback(null, chunk);
  }
}
