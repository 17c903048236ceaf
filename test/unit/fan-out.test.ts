import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { FanOut } from '../../src/targets/fan-out';

/** A sink that takes each chunk after delayMs, and can break after some bytes. */
function sink(options: { delayMs?: number; failAfter?: number } = {}) {
  const received: Buffer[] = [];
  let bytes = 0;
  let maxQueued = 0;
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      maxQueued = Math.max(maxQueued, stream.writableLength);
      bytes += chunk.length;
      if (options.failAfter !== undefined && bytes > options.failAfter) return callback(new Error('target went away'));
      received.push(chunk);
      setTimeout(callback, options.delayMs ?? 0);
    },
  });
  return { stream, received, maxQueued: () => maxQueued };
}

const CHUNKS = Array.from({ length: 64 }, (_, index) => Buffer.alloc(16 * 1024, index));

describe('FanOut', () => {
  it('gives every branch every byte, paced by the slowest (no unbounded buffering)', async () => {
    const fast = sink();
    const slow = sink({ delayMs: 2 });
    await pipeline(Readable.from(CHUNKS), new FanOut([{ name: 'fast', stream: fast.stream }, { name: 'slow', stream: slow.stream }]));
    assert.ok(Buffer.concat(fast.received).equals(Buffer.concat(CHUNKS)));
    assert.ok(Buffer.concat(slow.received).equals(Buffer.concat(CHUNKS)));
    // Each branch holds at most about one chunk beyond its own buffer, whatever the archive's size.
    assert.ok(slow.maxQueued() <= 32 * 1024, `slow branch queued ${slow.maxQueued()} bytes`);
  });

  it('drops a branch that fails and completes the others; fails only when none is left', async () => {
    const healthy = sink();
    const broken = sink({ failAfter: 100_000 });
    const branches = [
      { name: 'local', stream: healthy.stream },
      { name: 's3', stream: broken.stream },
    ];
    const fanOut = new FanOut(branches);
    await pipeline(Readable.from(CHUNKS), fanOut);
    assert.ok(Buffer.concat(healthy.received).equals(Buffer.concat(CHUNKS)));
    assert.deepEqual(fanOut.live().map((branch) => branch.name), ['local']);
    assert.match(String(branches[1].stream && (fanOut.branches[1].failure as Error).message), /target went away/);

    const only = sink({ failAfter: 100_000 });
    await assert.rejects(pipeline(Readable.from(CHUNKS), new FanOut([{ name: 'sftp', stream: only.stream }])), /target went away/);
  });
});
