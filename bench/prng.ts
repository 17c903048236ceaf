import { createCipheriv, createHash } from 'node:crypto';

/**
 * mulberry32: a tiny seeded PRNG. The corpus must be the same bytes on every machine and every run, so
 * that numbers measured on different days compare; Math.random cannot be seeded.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Incompressible but reproducible bytes: AES-128-CTR over zeros, keyed by the seed. A JS PRNG would take
 * seconds per 128 MiB; the cipher runs at memory speed.
 */
export function seededRandomBytes(seed: string): (length: number) => Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return (length) => cipher.update(Buffer.alloc(length));
}
